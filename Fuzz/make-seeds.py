#!/usr/bin/env python3
"""Writes the hand-made seed inputs into Fuzz/corpus/TARGET/seed-*. Run from anywhere;
existing seed files are overwritten, inputs found by campaigns are left alone.
Inputs that trip a known, still open bug are not seeds: they live in Fuzz/crashes/TARGET/."""
import hashlib, json, pathlib, re, textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUZZ = ROOT / "Fuzz"

def triple_quoted(path):
    """The Swift multi-line string literals of a test file, dedented."""
    text = (ROOT / path).read_text()
    return [textwrap.dedent(m) for m in re.findall(r'"""\n(.*?)\n\s*"""', text, re.S)]

def nested(depth, leaf='1'):
    return '[' * depth + leaf + ']' * depth

def event(data, **extra):
    e = {"specversion": "1.0", "id": "e-1", "source": "https://rops.example.org/konkursy",
         "type": "contest.deadline", "data": data}
    e.update(extra)
    return json.dumps(e, ensure_ascii=False)

POLISH = "Zażółć gęślą jaźń — Łódź, Kraków, Gdańsk; ŻÓŁW źdźbło"
NASTY = ["\u0301e\u0301\u0301", "👩‍👩‍👧‍👦🇵🇱", "\u202eevil\u202c", "\ufeffBOM", "\u0000nul", "a\u2028b\u2029c",
         "\U0010ffff", "Ω≈ç√∫", "=?UTF-8?Q?=C5=BC?=", "x" * 200, "ą" * 120]
BIG = ["-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
       "1e308", "1e309", "-0", "0.5", "1E2", "00012"]

seeds = {t: {} for t in ["event", "config", "template", "mime", "address"]}

# event: the example events, the parser tests' texts, and edge cases.
for f in sorted((ROOT / "Config/events").glob("*.json")):
    seeds["event"][f.stem] = f.read_bytes()
for i, t in enumerate(triple_quoted("Tests/HeroldCoreTests/CloudEventParserTests.swift")):
    seeds["event"][f"test-{i}"] = t.encode()
seeds["event"].update({
    "bom": b"\xef\xbb\xbf" + event({"n": 1}).encode(),
    "batch-duplicate": ("[" + event({}) + "," + event({}) + "]").encode(),
    "polish": event({"title": POLISH, "nasty": NASTY}).encode(),
    "numbers": ('{"specversion":"1.0","id":"n","source":"s","type":"t","data":{"a":%s},"ext":1e2}'
                % ",".join(f'"{b}":{b}' if b[0] != '0' or b == '0.5' else f'"{b}":"{b}"' for b in BIG[:8])).replace('"a":', '"a":0,"z":').encode(),
    "deep-array": ('{"specversion":"1.0","id":"d","source":"s","type":"t","data":%s}' % nested(400)).encode(),
    "deep-object": ('{"specversion":"1.0","id":"d","source":"s","type":"t","data":' + '{"a":' * 400 + '1' + '}' * 401).encode(),
    "time-extremes": event({}, time="9999-12-31T23:59:60+14:00").encode(),
    "extensions": event({}, traceparent="00-abc", retries=3, urgent=True, bad=1.5).encode(),
    "data-base64": b'{"specversion":"1.0","id":"b","source":"s","type":"t","data_base64":"emHFvMOzxYLEhw=="}',
    "control-in-id": b'{"specversion":"1.0","id":"a\\u0000b","source":"s","type":"t"}',
    "windows-1250": b'{"specversion":"1.0","id":"w","source":"s","type":"t","data":{"miasto":"\xb3\xf3d\xbc"}}',
    "latin1": b'{"specversion":"1.0","id":"l","source":"s","type":"t","data":{"city":"Gda\xf1sk"}}',
    "overlong-and-surrogate": b'{"specversion":"1.0","id":"o","source":"s","type":"t","data":"\xc0\xaf\xed\xa0\x80"}',
    "lone-surrogate-escape": b'{"specversion":"1.0","id":"\\ud800","source":"s","type":"t"}',
    "escapes": '{"specversion":"1.0","id":"\\ud83d\\ude00","source":"\\u017c","type":"t"}'.encode(),
})

# config: the example config, the loader tests' YAML texts, and edge cases.
seeds["config"]["herold-yaml"] = (ROOT / "Config/herold.yaml").read_bytes()
base = triple_quoted("Tests/HeroldConfigTests/ConfigLoaderTests.swift")
for path in ["Tests/HeroldConfigTests/ConfigLoaderTests.swift", "Tests/HeroldConfigTests/MessageOptionsConfigTests.swift",
             "Tests/HeroldConfigTests/RetryConfigTests.swift", "Tests/HeroldConfigTests/SchedulingConfigTests.swift"]:
    for i, t in enumerate(triple_quoted(path)):
        name = pathlib.Path(path).stem
        seeds["config"][f"{name}-{i}"] = t.encode()
        if base and i > 0:
            seeds["config"][f"{name}-{i}-with-base"] = (base[0] + "\n" + t).encode()
seeds["config"].update({
    "crlf": (ROOT / "Config/herold.yaml").read_bytes().replace(b"\n", b"\r\n"),
    "anchors": b"a: &x [1, 2]\nb: *x\nc: !!binary aGk=\nrules: *x\n",
    "polish-keys": ("timezone: Europe/Warsaw\nreguły: [" + POLISH + "]\n").encode(),
    "numbers": ("limits: { max_event_bytes: %s }\ngrace: 99999999999999999999d\n" % BIG[1]).encode(),
    "deep": b"a: " + b"[" * 300 + b"]" * 300 + b"\n",
})

# template: event data (JSON) for the fixed template set of fuzz-template.
DATES = ["2026-12-15", "2026-11-21T08:00:00+01:00", "2028-02-29", "0001-01-01", "9999-12-31",
         "2026-04-05", "2026-13-01", "2026-11-21T23:59:60Z", "-0001-01-01", "2026-11-21T08:00:00.123456789-12:00"]
seeds["template"].update({
    "laureates": json.dumps(json.loads((ROOT / "Config/events/laureaci-przeciw-przemocy.json").read_text()).get("data", {}),
                            ensure_ascii=False).encode(),
    "polish": json.dumps({"title": POLISH, "n": 22, "date": DATES[1], "list": ["ROPS", "KWP", "MOPS"]},
                         ensure_ascii=False).encode(),
    "objects": json.dumps({"title": "Gala", "n": "7", "list": [{"name": "Gala", "date": DATES[1], "n": 1},
                                                                 {"name": "Konferencja", "date": DATES[0], "n": 12}]},
                          ensure_ascii=False).encode(),
    "recipients": json.dumps({"to": ["Jan Kowalski <jan@example.org>", {"address": "a@example.org", "name": "Ą",
                                                                       "salutation": "Szanowna Pani"}],
                              "n": 2, "date": DATES[0]}, ensure_ascii=False).encode(),
    "nasty": json.dumps({"title": NASTY[1] + NASTY[2], "list": NASTY, "n": 104}, ensure_ascii=False).encode(),
    "deep": ('{"list":' + nested(200, '"x"') + ',"n":5}').encode(),
    "scalar": b'"tekst"',
    "flag": b'{"flag": [1, 2], "title": "a\\u0001b", "n": -1}',
})
for i, d in enumerate(DATES):
    seeds["template"][f"date-{i}"] = json.dumps({"date": d, "n": i, "title": "Termin"}).encode()
for i, n in enumerate(["0", "1", "2", "5", "12", "22", "-1", "-22", "7.5", "1e300", '"12"', '"-5"', '"abc"',
                       '"9223372036854775806"', '"-9223372036854775807"', "9223372036854775808"]):
    seeds["template"][f"n-{i}"] = ('{"n": %s, "title": "Liczba"}' % n).encode()

# mime: text for the Subject, a display name and a body.
for i, t in enumerate(NASTY + [POLISH, POLISH * 5, ".\r\n.\n..\r.", "a \t\r\n b  \n", "=?", "?=", "x=?y?q?z?=w",
                               " " * 100, "word " * 40, "a" * 998, "ą " * 100, "tab\there", "\u00a0nbsp\u00a0",
                               "line\nbreak", "Zażółć" + "x" * 80 + "ń", "\"quoted\" \\back\\", "ą" * 25 + " " + "b" * 80]):
    seeds["mime"][f"text-{i}"] = t.encode()
seeds["mime"]["invalid-utf8"] = b"Za\xbf\xf3\xb3\xe6 \xff\xfe\xc0\x80"

# address: mailboxes, webhook URLs and host literals.
for i, t in enumerate([
        "jan@example.org", "Jan Kowalski <jan@example.org>", '"Kowalski, Jan" <jan@example.org>',
        "Łukasz Żółw <lukasz@gmina.example.pl>", "<a@b>", '"" <a@b.pl>', "a@b@c", "a..b@c", "a@-b.c",
        "x <a@b>\r\nBcc: evil@example.org", "a@b\u0000", '"x " <a@b.pl>', "  spaced  <a@b.pl>  ",
        "a@" + "b" * 63 + "." + "c" * 63, "http://127.0.0.1:8080/hook", "https://[::1]:443/x?y#z",
        "http://0x7f000001/", "http://2130706433/", "http://017700000001/", "http://127.1/", "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1%25eth0]/", "https://user@host/", "http://host:0/", "http://host:65536/", "HTTP://Example.ORG",
        "127.0.0.1", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
        "::1", "::", "::ffff:10.0.0.1", "::10.0.0.1", "64:ff9b::a9fe:a9fe", "fc00::1", "fe80::1", "fec0::1", "ff02::1",
        "2001:db8::1", "0x7f.1", "0177.0.0.01", "0000000000000177.0.0.1", "http://0000000000000020/", "1.2.3.4.", "localhost", "a.localhost.", "[::1]"]):
    seeds["address"][f"seed-{i}"] = t.encode()

for target, items in seeds.items():
    folder = FUZZ / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    for name, data in items.items():
        (folder / f"seed-{name}").write_bytes(data)
    print(target, len(items), "seeds")
