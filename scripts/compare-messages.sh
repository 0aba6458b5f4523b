#!/bin/bash
# scripts/compare-messages.sh BEFORE AFTER — do two herold binaries write the same emails?
#
# Runs `herold preview --out` with both binaries on every event of the example config
# (Config/events) and on an edge-case site (long and encoded display names, quotes, Sender,
# Reply-To, List-Unsubscribe, Polish and non-Latin subjects, "=?" text, CR/LF mixes, dots at
# line starts, two attachments with a long Polish name, HTML). Every .eml must be byte-identical
# except its Date: line (the preview time). Exits 1 on any difference. For changes to the composer.
set -e
BEFORE=$1; AFTER=$2
[ -x "$BEFORE" ] && [ -x "$AFTER" ] || { echo "usage: $0 BEFORE-BINARY AFTER-BINARY" >&2; exit 2; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/herold-compare-XXXX)
trap 'rm -rf "$W"' EXIT
cp -r "$REPO/Config" $W/site
# Edge-case site: sender, list-unsubscribe, hostile display names, long subjects, "=?" text.
mkdir -p $W/edge/templates/t $W/edge/secrets $W/edge/pliki
printf 'x' > $W/edge/pliki/'Sprawozdanie roczne za 2026 rok – wersja ostateczna, zażółć gęślą jaźń.pdf'
printf 'y' > $W/edge/pliki/plain.txt
printf '{{data.subject}}' > $W/edge/templates/t/subject.mustache
printf '{{data.text}}\n' > $W/edge/templates/t/text.mustache
printf '<p>{{data.text}}</p>\n' > $W/edge/templates/t/html.mustache
cat > $W/edge/herold.yaml <<YAML
timezone: Europe/Warsaw
spool: ./spool
state: ./state
smtp:
  outbox: ./outbox
  from: "Regionalny Ośrodek Polityki Społecznej w Krakowie — Dział Powiadomień i Spraw Bardzo Długich <powiadomienia@rops.example.org>"
  sender: "\"ROPS, Kraków: zespół\" <nadawca@rops.example.org>"
  reply_to: "\"Sekretariat ROPS (dział)\" <sekretariat@rops.example.org>"
attachments:
  roots: [./pliki]
webhooks: {}
recipients:
  many:
    - "ROPS, Krakow: zespol <a@example.org>"
    - "Jan =?UTF-8?Q?x?= Kowalski <b@example.org>"
    - "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Bbbbb <c@example.org>"
    - "Ελληνικά και 中文 名前 👩‍👩‍👧‍👦 rodzina <d@example.org>"
    - "plain@example.org"
    - "   Spacje   wewnątrz   <e@example.org>"
rules:
  - name: edge
    match: { type: edge }
    send:
      - email: { to: [many], template: t, attach: [plain.txt, "Sprawozdanie roczne za 2026 rok – wersja ostateczna, zażółć gęślą jaźń.pdf"], list_unsubscribe: "<mailto:wypisz@example.org>, <https://example.org/u?x=1>" }
YAML
python3 - $W <<'PY'
import json, sys
w = sys.argv[1]
subjects = ["Plain ASCII subject that is rather long and will need folding somewhere past the seventy-eighth column for sure",
            "Zażółć gęślą jaźń — życzenia z okazji Dnia Pracownika Socjalnego 2026 oraz bardzo długi dalszy ciąg tematu",
            "Looks like =?UTF-8?Q?encoded?= but is not", "Ελληνικά 中文 👩‍👩‍👧‍👦 e\u0301",
            "a" * 1200]
texts = ["Linia\r\nDruga\rTrzecia\nczwarta z kropką\n.zaczyna się kropką\n" + "ą" * 200 + "\n" + "x " * 100 + "\t\nkoniec  ",
         "=_herold_alt_ --=_ boundary-like\n" * 3, "Tylko ASCII.\n"]
for n, s in enumerate(subjects):
    json.dump({"specversion": "1.0", "id": f"e{n}", "source": "/edge", "type": "edge",
               "data": {"subject": s, "text": texts[n % len(texts)]}}, open(f"{w}/edge/e{n}.json", "w"), ensure_ascii=False)
PY
run() { # binary outdir config event
  "$1" preview --config "$3" --out "$2" "$4" > /dev/null 2>&1 || true
}
for bin in before after; do
  B=$BEFORE; [ $bin = after ] && B=$AFTER
  for ev in $W/site/events/*.json; do run $B $W/$bin/site-$(basename $ev .json) $W/site/herold.yaml $ev; done
  for ev in $W/edge/*.json; do run $B $W/$bin/edge-$(basename $ev .json) $W/edge/herold.yaml $ev; done
done
status=0
diff <(cd $W/before && find . -type f | sort) <(cd $W/after && find . -type f | sort) || { echo "different sets of messages"; status=1; }
for f in $(cd $W/before && find . -name '*.eml' | sort); do
  [ -f "$W/after/$f" ] || continue
  if ! cmp -s <(grep -av '^Date: ' $W/before/$f) <(grep -av '^Date: ' $W/after/$f); then
    echo "DIFFERENT: $f"; diff <(grep -av '^Date: ' $W/before/$f) <(grep -av '^Date: ' $W/after/$f) | head -10; status=1
  fi
done
count=$(cd $W/before && find . -name '*.eml' | wc -l)
[ "$count" -gt 40 ] || { echo "only $count messages were written: did preview fail?"; status=1; }
[ $status = 0 ] && echo "same: $count emails, $(cd $W/before && find . -name '*.eml' -exec cat {} + | wc -c) bytes, identical but for Date:"
exit $status
