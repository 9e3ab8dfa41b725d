"""The library exports exactly what shiplog.h declares, versioned, and nothing
else; its SONAME carries the major version.

Usage: check_exports.py HEADER LIBRARY
"""

import re
import subprocess
import sys


def declared_functions(header_text):
    return set(re.findall(r"SHIPLOG_API\s+[^;]*?\b(shiplog_\w+)\s*\(",
                          header_text, re.S))


def exported_symbols(library):
    """(name, version) of every defined dynamic symbol."""
    out = subprocess.run(["readelf", "--dyn-syms", "--wide", library],
                         check=True, capture_output=True, text=True).stdout
    symbols = []
    for line in out.splitlines():
        fields = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(fields) < 8 or not fields[0][:-1].isdigit():
            continue  # not a symbol row (headings, blank lines)
        ndx, name = fields[6], fields[7]
        if ndx == "UND":
            continue
        if ndx == "ABS" and name.startswith("SHIPLOG_"):
            continue  # the version node itself
        base, _, version = name.partition("@")
        symbols.append((base, version.lstrip("@")))
    return symbols


def soname(library):
    out = subprocess.run(["readelf", "--dynamic", library], check=True,
                         capture_output=True, text=True).stdout
    match = re.search(r"\(SONAME\)\s+Library soname: \[(.+)\]", out)
    return match[1] if match else None


def since_version(header_text, name):
    """The symbol version shiplog.h's "Since 1.N" note before `name`'s
    declaration calls for."""
    at = re.search(r"SHIPLOG_API\s+[^;]*?\b" + name + r"\s*\(", header_text)
    notes = re.findall(r"Since (1\.\d+)", header_text[:at.start()])
    return f"SHIPLOG_{notes[-1]}" if notes else "SHIPLOG_1.0"


def main(header, library, expected_soname):
    problems = []
    header_text = open(header).read()
    declared = declared_functions(header_text)
    symbols = exported_symbols(library)
    exported = set()
    for name, version in symbols:
        if not name.startswith("shiplog_"):
            problems.append(f"exports a symbol that is not shiplog_*: {name}")
            continue
        if not re.fullmatch(r"SHIPLOG_1\.\d+", version):
            problems.append(f"{name} has version '{version}', not SHIPLOG_1.x")
        elif version != since_version(header_text, name):
            problems.append(f"{name} has version '{version}' but shiplog.h "
                            f"says since {since_version(header_text, name)}")
        exported.add(name)
    for name in sorted(declared - exported):
        problems.append(f"declared in shiplog.h but not exported: {name}")
    for name in sorted(exported - declared):
        problems.append(f"exported but not declared in shiplog.h: {name}")
    if soname(library) != expected_soname:
        problems.append(f"SONAME is {soname(library)!r}, not {expected_soname!r}")
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"{len(declared)} functions declared, {len(exported)} exported, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
