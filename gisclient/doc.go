// Package gisclient holds the tests that drive GIS clients nobody here
// wrote, QGIS (python3-qgis, headless) and OWSLib (python3-owslib), against
// a real listening server. They are a package of their own so that go test
// runs them beside the server package's tests instead of after them: QGIS
// alone reads 20,000 features for about two minutes.
package gisclient
