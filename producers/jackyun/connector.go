package jackyun

import (
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is 吉客云 Jackyun in ferry's vendor table.
var Connector = producers.Connector{
	Vendor: vendors.Vendor{
		Name:     "jackyun",
		Title:    "吉客云 Jackyun",
		Env:      "JACKYUN",
		Settings: []vendors.Setting{{Name: vendors.URL}, {Name: "APP_KEY"}, {Name: "SECRET", Secret: true}},
		About:    "吉客云: the gateway (`https://open.jackyun.com/open/openapi/do`) and application",
		Connect: func(a vendors.Account, o vendors.Options) (vendors.Client, error) {
			return New(Config{URL: a[vendors.URL], AppKey: a["APP_KEY"], Secret: a["SECRET"], Options: o})
		},
	},
	APIPrefix: "jackyun.",
	Bind:      producers.Bind(NewSource),
}
