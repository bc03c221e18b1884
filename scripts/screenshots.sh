#!/usr/bin/env bash
# The screenshots docs/serve.md shows: the rehearsal with a bad release served by
# `shipcheck demo --serve`, photographed by headless Chromium through chromedriver (WebDriver
# screenshots, the browser tests' client). Needs `apt-get install chromium chromium-driver`.
# Writes docs/screenshots/{run-page,watch-charts,watch-phone,team-dora}.png.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHIPCHECK_SCREENSHOTS="$PWD/docs/screenshots"
export SHIPCHECK_REQUIRE_BROWSER=1
cargo test -p shipcheck --test cli browser::screenshots_of_the_rehearsal -- --ignored --nocapture
ls -l "$SHIPCHECK_SCREENSHOTS"
