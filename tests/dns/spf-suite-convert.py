#!/usr/bin/env python3
"""Convert the openspf RFC 7208 test suite (YAML) into the flat line format
read by tests/unit/test_spf_suite.c, so that the C side needs no YAML parser.

usage: spf-suite-convert.py rfc7208-tests.yml > suite.txt

Output, one record a line; every free-text field is written as '"' followed
by the bytes with anything outside 0x21-0x7e, '"' and '\\' as \\xHH:

  S "description                      a scenario starts (its zone follows)
  Z "name TYPE "datum...              a record: TXT/SPF have one field per
                                      character-string, MX is "PREF host",
                                      A/AAAA/PTR/CNAME one field
  Z "name TIMEOUT                     queries of types without data time out
  T name "host "helo "mailfrom result[,result...]

Zone data rules of the suite's own drivers (pyspf testspf.py):
  * an SPF record is also served as TXT when the name has no TXT entry;
  * "TXT: NONE" means "no TXT records" (and stops that copying);
  * TIMEOUT makes queries for the name time out, except for record types
    the name has data for.
"""
import sys

import yaml


def esc(value):
    """'"' + value with non-graphic bytes escaped; str is taken as Latin-1
    where possible (the suite writes raw bytes as \\xHH in YAML)."""
    if isinstance(value, str):
        try:
            data = value.encode("latin-1")
        except UnicodeEncodeError:
            data = value.encode("utf-8")
    else:
        data = bytes(value)
    out = []
    for b in data:
        if 0x21 <= b <= 0x7E and b not in (0x22, 0x5C):
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return '"' + "".join(out)


def strings(value):
    """character-strings of one TXT/SPF record (split at 255 octets)"""
    if isinstance(value, list):
        return [str(v) for v in value]
    value = str(value)
    if len(value) <= 255:
        return [value]
    return [value[i:i + 255] for i in range(0, len(value), 255)]


def zone_lines(zonedata):
    for rawname, records in (zonedata or {}).items():
        name = esc(rawname)
        records = records or []
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        for r in records:
            if r == "TIMEOUT":
                yield "Z %s TIMEOUT" % name
                continue
            (rtype, value), = r.items()
            if rtype in ("TXT", "SPF"):
                if value == "NONE":
                    continue
                fields = " ".join(esc(s) for s in strings(value))
                yield ("Z %s %s %s" % (name, rtype, fields)).rstrip()
                if rtype == "SPF" and not has_txt:
                    yield ("Z %s TXT %s" % (name, fields)).rstrip()
            elif rtype == "MX":
                pref, host = value
                yield "Z %s MX %s" % (name, esc("%d %s" % (pref, host)))
            elif rtype in ("A", "AAAA", "PTR", "CNAME"):
                yield "Z %s %s %s" % (name, rtype, esc(str(value)))
            else:
                raise SystemExit("unknown record type %s at %s" % (rtype, name))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: spf-suite-convert.py rfc7208-tests.yml")
    with open(sys.argv[1], "rb") as f:
        docs = list(yaml.safe_load_all(f))
    out = sys.stdout
    for doc in docs:
        out.write("S %s\n" % esc(doc.get("description", "?")))
        for line in zone_lines(doc.get("zonedata")):
            out.write(line + "\n")
        for name, t in doc["tests"].items():
            result = t["result"]
            if isinstance(result, list):
                result = ",".join(result)
            out.write("T %s %s %s %s %s\n" % (name, esc(str(t["host"])),
                                              esc(str(t.get("helo", ""))),
                                              esc(str(t.get("mailfrom", ""))),
                                              result))


if __name__ == "__main__":
    main()
