// Package e2e holds the end-to-end tests of the map page: the real server on a
// loopback port, driven by a real headless Chromium through chromedp. It has
// no code of its own; `make screenshots` also runs from here.
package e2e
