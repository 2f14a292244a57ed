#!/usr/bin/env bash
# Checks how report.html renders in a real browser (headless Chromium, as
# scripts/screenshot-report uses), on a 1280x800 window, a laptop's first
# screen:
#   - the failures table (worst first, with reproducers) starts within it;
#   - no descriptor field wraps inside itself (eps=1e-5 stays whole): every
#     field's span lays out as one line box;
#   - each reproducer is one unwrapped line.
# The geometry is measured by a small script run in the page (a copy of the
# report with the script appended), read back with --dump-dom; a screenshot
# of that first screen is written beside the report (report-first-screen.png)
# for people, and checked to be a 1280x800 PNG.
#   html_layout.sh REPORT.html
# Exit 77 (CTest: skipped) when Chromium is not installed (scripts/install-deps installs it).
set -euo pipefail
html=$1
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then echo "html_layout: chromium not installed: skipped"; exit 77; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$html" "$work/page.html"
cat >> "$work/page.html" <<'JS'
<script>
(() => {
  const out = [];
  const table = document.getElementById('failures');
  out.push('failures_top=' + (table ? Math.round(table.getBoundingClientRect().top + window.scrollY) : -1));
  let fields = 0, wrapped = [];
  for (const t of document.querySelectorAll('code.d .t')) {
    ++fields;
    if (t.getClientRects().length !== 1) wrapped.push(t.textContent);
  }
  out.push('fields=' + fields);
  out.push('wrapped_fields=' + wrapped.length + (wrapped.length ? ' ' + wrapped.slice(0, 5).join(',') : ''));
  let repro = 0, repro_wrapped = 0;
  for (const r of document.querySelectorAll('code.repro')) {
    ++repro;
    const line = parseFloat(getComputedStyle(r).lineHeight) || 16;
    if (r.scrollHeight > 2 * line) ++repro_wrapped;
  }
  out.push('repro=' + repro + ' repro_wrapped=' + repro_wrapped);
  const pre = document.createElement('pre');
  pre.id = 'layout-result';
  pre.textContent = out.join('\n');
  document.body.appendChild(pre);
})();
</script>
JS
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --window-size=1280,800 --hide-scrollbars)
"$browser" "${flags[@]}" --virtual-time-budget=3000 --dump-dom "file://$work/page.html" \
  2>/dev/null > "$work/dom.html"
result=$(sed -n '/<pre id="layout-result">/,/<\/pre>/p' "$work/dom.html" | sed 's/<[^>]*>//g')
echo "$result"
[ -n "$result" ] || { echo "FAIL: the measuring script did not run"; exit 1; }
top=$(echo "$result" | sed -n 's/^failures_top=//p')
fields=$(echo "$result" | sed -n 's/^fields=//p')
wrapped=$(echo "$result" | sed -n 's/^wrapped_fields=\([0-9]*\).*/\1/p')
repro=$(echo "$result" | sed -n 's/^repro=\([0-9]*\).*/\1/p')
repro_wrapped=$(echo "$result" | sed -n 's/.*repro_wrapped=//p')
fail=0
if [ "$top" -lt 0 ] || [ "$top" -ge 800 ]; then echo "FAIL: failures table at y=$top, not in the first 800 px"; fail=1; fi
if [ "$fields" -lt 1 ]; then echo "FAIL: no descriptor fields found"; fail=1; fi
if [ "$wrapped" -ne 0 ]; then echo "FAIL: $wrapped descriptor fields wrap inside themselves"; fail=1; fi
if [ "$repro" -lt 1 ] || [ "$repro_wrapped" -ne 0 ]; then echo "FAIL: reproducers: $repro, wrapped $repro_wrapped"; fail=1; fi
# The first screen, as a person sees it.
png="${html%.html}-first-screen.png"
"$browser" "${flags[@]}" --screenshot="$png" "file://$(realpath "$html")" 2>/dev/null >/dev/null
size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print("%dx%d" % struct.unpack(">II", d[16:24]))' "$png") \
  || { echo "FAIL: no PNG screenshot at $png"; exit 1; }
echo "screenshot: $png ($size)"
[ "$size" = "1280x800" ] || { echo "FAIL: screenshot is $size, not 1280x800"; fail=1; }
exit $fail
