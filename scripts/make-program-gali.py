# Writes Config/zalaczniki/program-gali.pdf: one A4 page, Helvetica with a Differences
# encoding so Polish letters show (glyph names from the standard Latin set).
import sys
glyphs = {"ą":"aogonek","ć":"cacute","ę":"eogonek","ł":"lslash","ń":"nacute","ó":"oacute","ś":"sacute","ź":"zacute","ż":"zdotaccent",
          "Ą":"Aogonek","Ć":"Cacute","Ę":"Eogonek","Ł":"Lslash","Ń":"Nacute","Ó":"Oacute","Ś":"Sacute","Ź":"Zacute","Ż":"Zdotaccent",
          "–":"endash","„":"quotedblbase","”":"quotedblright"}
codes = {ch: 0x80 + i for i, ch in enumerate(glyphs)}
def enc(text):
    out = bytearray()
    for ch in text:
        if ch in codes: out.append(codes[ch])
        elif ch in "()\\": out += b"\\" + ch.encode()
        else: out += ch.encode("ascii")
    return bytes(out)
lines = [(18, "Program gali"), (12, "Konferencja wojewódzka „Wspólne działanie – wzajemne korzyści”"),
         (12, "Międzynarodowe Centrum Kultury w Krakowie, 10 grudnia 2026 r."), (12, ""),
         (11, "9:30 – Rejestracja uczestników"), (11, "10:00 – Otwarcie konferencji"),
         (11, "10:30 – Centrum usług społecznych – odpowiedź na potrzeby mieszkańców"),
         (11, "12:30 – Wręczenie nagród: „Małopolski Pracownik Socjalny Roku” i „Przeciw przemocy”"),
         (11, "13:30 – Zakończenie i poczęstunek"), (11, ""),
         (9, "Regionalny Ośrodek Polityki Społecznej w Krakowie")]
content = bytearray(b"BT\n72 770 Td\n")
for size, text in lines:
    content += b"/F1 %d Tf\n(" % size + enc(text) + b") Tj\n0 -%d Td\n" % (size * 2)
content += b"ET\n"
diffs = " ".join("%d /%s" % (codes[ch], name) for ch, name in glyphs.items())
objects = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [" + diffs.encode() + b"] >> >>",
    b"<< /Length %d >>\nstream\n" % len(content) + bytes(content) + b"endstream",
    b"<< /Title (Program gali) /Producer (herold example) >>",
]
out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
offsets = []
for i, body in enumerate(objects, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
for off in offsets: out += b"%010d 00000 n \n" % off
out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
open(sys.argv[1], "wb").write(out)
