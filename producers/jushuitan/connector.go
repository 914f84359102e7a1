package jushuitan

import (
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is 聚水潭 Jushuitan in ferry's vendor table.
var Connector = producers.Connector{
	Vendor: vendors.Vendor{
		Name:     "jushuitan",
		Title:    "聚水潭 Jushuitan",
		Env:      "JST",
		Settings: []vendors.Setting{{Name: vendors.URL}, {Name: "APP_KEY"}, {Name: "APP_SECRET", Secret: true}, {Name: "ACCESS_TOKEN", Secret: true}, {Name: "REFRESH_TOKEN", Secret: true}},
		About:    "聚水潭: the base URL (`https://openapi.jushuitan.com`) and application; without tokens ferry asks for them, and it refreshes them before they expire",
		Connect: func(a vendors.Account, o vendors.Options) (vendors.Client, error) {
			return New(Config{URL: a[vendors.URL], AppKey: a["APP_KEY"], AppSecret: a["APP_SECRET"],
				AccessToken: a["ACCESS_TOKEN"], RefreshToken: a["REFRESH_TOKEN"], Options: o})
		},
	},
	APIPrefix: "/open/",
	Bind:      producers.Bind(NewSource),
}
