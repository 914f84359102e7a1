package banniu

import (
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is 班牛 Banniu in ferry's vendor table.
var Connector = sinks.Connector{
	Vendor: vendors.Vendor{
		Name:     "banniu",
		Title:    "班牛 Banniu",
		Env:      "BANNIU",
		Settings: []vendors.Setting{{Name: vendors.URL}, {Name: "APP_KEY"}, {Name: "APP_SECRET", Secret: true}, {Name: "ACCESS_TOKEN", Secret: true}},
		About:    "班牛: the gateway (`https://open.bytenew.com/gateway/api/miniAPI`) and application",
		Connect: func(a vendors.Account, o vendors.Options) (vendors.Client, error) {
			return New(Config{URL: a[vendors.URL], AppKey: a["APP_KEY"], AppSecret: a["APP_SECRET"], AccessToken: a["ACCESS_TOKEN"], Options: o})
		},
	},
	Writer: sinks.Write(NewWriter),
}
