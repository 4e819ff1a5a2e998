package server

// basemapLayer is one offline base layer of the map page.
type basemapLayer struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Title string `json:"title"`
}

// basemapConfig is the page configuration's basemap: its layers, drawn in
// this order (land first, labels last), and the attribution its source asks for.
type basemapConfig struct {
	Layers      []basemapLayer `json:"layers"`
	Attribution string         `json:"attribution"`
}

// basemapLayers lists the embedded base layers served under /map/basemap/.
func basemapLayers() basemapConfig {
	return basemapConfig{
		Layers: []basemapLayer{
			{ID: "land", URL: "/map/basemap/land.geojson", Title: "Land and countries"},
			{ID: "lakes", URL: "/map/basemap/lakes.geojson", Title: "Lakes"},
			{ID: "rivers", URL: "/map/basemap/rivers.geojson", Title: "Rivers"},
			{ID: "places", URL: "/map/basemap/places.geojson", Title: "Cities and towns"},
		},
		Attribution: "Made with Natural Earth",
	}
}
