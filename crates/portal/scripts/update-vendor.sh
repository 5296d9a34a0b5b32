#!/bin/sh
# Refreshes the portal's vendored browser files from npm (run from anywhere; needs npm, node, tar):
#   assets/vendor/echarts.min.js          <- echarts (Apache-2.0)
#   assets/vendor/topojson-client.min.js  <- topojson-client (ISC)
#   assets/vendor/countries-110m.json     <- world-atlas (ISC)
#   ../analytics/data/country-codes.json  <- generated from i18n-iso-countries (MIT):
#                                            ISO 3166-1 alpha-2 -> numeric code and English name
# Versions are pinned below; after changing one, update assets/vendor/LICENSES.md.
set -eu

ECHARTS=echarts@6.1.0
TOPOJSON=topojson-client@3.1.0
WORLD_ATLAS=world-atlas@2.0.2
COUNTRIES=i18n-iso-countries@7.14.0

portal=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # package@version -> unpacked directory
    dir="$work/$(echo "$1" | tr '@/' '__')"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
    echo "$dir/package"
}

vendor="$portal/assets/vendor"
mkdir -p "$vendor"
cp "$(fetch $ECHARTS)/dist/echarts.min.js" "$vendor/"
cp "$(fetch $TOPOJSON)/dist/topojson-client.min.js" "$vendor/"
cp "$(fetch $WORLD_ATLAS)/countries-110m.json" "$vendor/"

codes=$(fetch $COUNTRIES)
node - "$codes" "$portal/../analytics/data/country-codes.json" <<'JS'
// codes.json rows are [alpha-2, alpha-3, numeric, ISO 3166-2 id]; langs/en.json names a code
// with a string or a list: the official short name, then aliases. Tables want short names:
// an official name over 20 characters gives way to its first alias, unless that alias also
// names another country ("Congo").
const fs = require("fs");
const [pkg, out] = process.argv.slice(2);
const rows = JSON.parse(fs.readFileSync(`${pkg}/codes.json`, "utf8"));
const names = JSON.parse(fs.readFileSync(`${pkg}/langs/en.json`, "utf8")).countries;
const aliasCount = {};
for (const name of Object.values(names)) {
  if (Array.isArray(name)) {
    for (const alias of name.slice(1)) aliasCount[alias] = (aliasCount[alias] || 0) + 1;
  }
}
const shortName = (name) => {
  if (!Array.isArray(name)) return name;
  const [official, alias] = name;
  return official.length > 20 && alias && aliasCount[alias] === 1 ? alias : official;
};
const table = {};
for (const [alpha2, , numeric] of rows.sort((a, b) => a[0].localeCompare(b[0]))) {
  table[alpha2] = { numeric, name: shortName(names[alpha2]) };
}
fs.writeFileSync(out, JSON.stringify(table, null, 0).replace(/},"/g, '},\n"') + "\n");
console.log(`${Object.keys(table).length} countries -> ${out}`);
JS
ls -l "$vendor" "$portal/../analytics/data/country-codes.json"
