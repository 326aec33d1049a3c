#!/usr/bin/env python3
"""The README's library snippet is the code of examples/train_lenet/main.cpp between
`// [readme]` and `// [/readme]` (ctest `readme_snippet`): the README block that follows
`<!-- snippet: examples/train_lenet/main.cpp -->` must equal it, so the two cannot drift.
Usage: check_readme_snippet.py SOURCE_DIR"""
import difflib
import pathlib
import sys
import textwrap

src = pathlib.Path(sys.argv[1])
marker = "<!-- snippet: examples/train_lenet/main.cpp -->"
code = (src / "examples/train_lenet/main.cpp").read_text().splitlines()
try:
    begin, end = code.index("  // [readme]"), code.index("  // [/readme]")
except ValueError:
    sys.exit("examples/train_lenet/main.cpp: no '// [readme]' ... '// [/readme]' region")
want = textwrap.dedent("\n".join(code[begin + 1:end])).splitlines()

readme = (src / "README.md").read_text().splitlines()
if marker not in readme:
    sys.exit(f"README.md: no '{marker}' line")
i = readme.index(marker) + 1
if readme[i].strip() != "```cpp":
    sys.exit(f"README.md:{i + 1}: expected a ```cpp block after the marker, got {readme[i]!r}")
j = readme.index("```", i + 1)
block = readme[i + 1:j]
includes = [l for l in block if l.startswith("#include")]
got = [l for l in block if not l.startswith("#include")]
while got and not got[0].strip():
    got.pop(0)
if includes != ["#include <convnet/convnet.h>"]:
    sys.exit(f"README.md:{i + 2}: the snippet should include only <convnet/convnet.h>, as the example does; got {includes}")
if got != want:
    sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
        want, got, "examples/train_lenet/main.cpp [readme]", "README.md", lineterm=""))
    sys.exit("README.md's snippet differs from examples/train_lenet/main.cpp (diff above): update one from the other")
print(f"README.md's snippet equals examples/train_lenet/main.cpp lines {begin + 2}-{end} ({len(want)} lines)")
