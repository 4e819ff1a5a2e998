// Removes the "resolved" download URLs from package-lock.json so that the
// committed lock file names no registry host; npm ci still verifies every
// package by its "integrity" hash and fetches it from the configured registry.
const fs = require("fs");
const path = require("path");
const file = path.join(__dirname, "..", "package-lock.json");
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
for (const pkg of Object.values(lock.packages || {})) delete pkg.resolved;
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
