package main

import (
	"flag"

	"incidentmap/server"
)

// serveProductionFlags declares the serving limits and protections of serve;
// each has its INCIDENTMAP_* variable like every other flag.
func serveProductionFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "longest time to read a request, headers and body")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", cfg.WriteTimeout, "longest time to write a response, streamed exports included")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "how long an idle keep-alive connection stays open")
	fs.IntVar(&cfg.BodyLimit, "body-limit", cfg.BodyLimit, "largest request body in bytes (imports excepted)")
	fs.Int64Var(&cfg.ImportBodyLimit, "import-body-limit", cfg.ImportBodyLimit, "largest import request body in bytes")
	fs.IntVar(&cfg.RateLimit, "rate-limit", cfg.RateLimit, "read requests a minute per client IP (0: no limit)")
	fs.IntVar(&cfg.WriteRateLimit, "write-rate-limit", cfg.WriteRateLimit, "write requests a minute per client IP (0: no limit)")
	fs.BoolVar(&cfg.RateLimitLoopback, "rate-limit-loopback", cfg.RateLimitLoopback, "rate-limit clients on the loopback address too")
	fs.StringVar(&cfg.CORSOrigins, "cors-origins", cfg.CORSOrigins, `origins allowed to read cross-origin: "*" or a comma-separated list`)
	fs.StringVar(&cfg.CORSWriteOrigins, "cors-write-origins", cfg.CORSWriteOrigins, `origins allowed to write cross-origin (POST, PUT, PATCH, DELETE with a token): a comma-separated list, "*" for any; default none`)
	fs.IntVar(&cfg.MaxStreamsPerIP, "max-streams-per-ip", cfg.MaxStreamsPerIP, "streamed responses (items pages, downloads) in flight per client IP; more are 429 (0: no cap)")
	fs.DurationVar(&cfg.StreamStallTimeout, "stream-stall-timeout", cfg.StreamStallTimeout, "cut off a client that accepts nothing of a streamed response for this long")
	fs.Int64Var(&cfg.SpoolLimit, "stream-spool-limit", cfg.SpoolLimit, "disk bytes (in the temporary folder) all streamed responses together may spool so that slow clients do not hold a database snapshot")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies, "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-Proto, -Host and -For are believed (default: none)")
	fs.StringVar(&cfg.Tiles, "tiles", cfg.Tiles, "raster tile URL template for the map page, e.g. https://tile.example.org/{z}/{x}/{y}.png (default: none, the page works offline)")
	fs.StringVar(&cfg.TilesAttribution, "tiles-attribution", cfg.TilesAttribution, "attribution text the tile provider requires")
	fs.BoolVar(&cfg.Compress, "compress", cfg.Compress, "compress responses (gzip, brotli) when the client accepts it")
	fs.BoolVar(&cfg.WarmTiles, "warm-tiles", cfg.WarmTiles, "build the vector tiles of zoom 0 to 6 and the page's first aggregations (timeline, counts per type, region and actor) over all incidents at start, so the map's first view is served from memory")
}
