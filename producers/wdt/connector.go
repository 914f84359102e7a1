package wdt

import (
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is 旺店通 WDT in ferry's vendor table.
var Connector = producers.Connector{
	Vendor: vendors.Vendor{
		Name:     "wdt",
		Title:    "旺店通 WDT",
		Env:      "WDT",
		Settings: []vendors.Setting{{Name: vendors.URL}, {Name: "SID"}, {Name: "APP_KEY"}, {Name: "APP_SECRET", Secret: true}},
		About:    "旺店通: the endpoint (`http://wdt.wangdian.cn/openapi`) and account; the secret in its `secret:salt` form",
		Connect: func(a vendors.Account, o vendors.Options) (vendors.Client, error) {
			return New(Config{URL: a[vendors.URL], SID: a["SID"], AppKey: a["APP_KEY"], AppSecret: a["APP_SECRET"], Options: o})
		},
	},
	APIPrefix: "wdt.",
	Bind:      producers.Bind(NewSource),
}
