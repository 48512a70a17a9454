#!/usr/bin/env bash
# The main job on the bundled examples: check every scenario in both forms, compile each
# to the IR under out/examples/, and confirm that the DSL and YAML forms mean the same.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
cli=(node dist/src/cli/main.js)
status=0
for dir in examples/[0-9]*/; do
  name=$(basename "$dir")
  failed=0
  for form in dsl yaml; do
    [ -d "$dir$form" ] || continue
    "${cli[@]}" compile "$dir$form" --out "out/examples/$name/$form" || failed=1
  done
  if [ $failed -ne 0 ]; then
    echo "FAIL $name: does not compile"; status=1
  elif [ -f "out/examples/$name/dsl/ir.json" ] && [ -f "out/examples/$name/yaml/ir.json" ]; then
    if node -e '
      const [a, b] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
      delete a.sources; delete b.sources;
      process.exit(JSON.stringify(a) === JSON.stringify(b) ? 0 : 1);
    ' "out/examples/$name/dsl/ir.json" "out/examples/$name/yaml/ir.json"; then
      echo "ok   $name: DSL and YAML compile to the same IR"
    else
      echo "FAIL $name: DSL and YAML IR differ"; status=1
    fi
  else
    echo "ok   $name"
  fi
done
echo "outputs in out/examples/"
exit $status
