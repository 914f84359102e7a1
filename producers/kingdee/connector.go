package kingdee

import (
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is 金蝶云星辰 Kingdee in ferry's vendor table.
var Connector = producers.Connector{
	Vendor: vendors.Vendor{
		Name:     "kingdee",
		Title:    "金蝶云星辰 Kingdee",
		Env:      "KINGDEE",
		Settings: []vendors.Setting{{Name: vendors.URL}, {Name: "CLIENT_ID"}, {Name: "CLIENT_SECRET", Secret: true}, {Name: "OUTER_INSTANCE_ID"}},
		About:    "金蝶云星辰: the host (`https://api.kingdee.com`), connector client and instance; ferry authorises itself and again when the app secret rotates",
		Connect: func(a vendors.Account, o vendors.Options) (vendors.Client, error) {
			return New(Config{URL: a[vendors.URL], ClientID: a["CLIENT_ID"], ClientSecret: a["CLIENT_SECRET"],
				OuterInstanceID: a["OUTER_INSTANCE_ID"], Options: o})
		},
	},
	APIPrefix: "/jdy/",
	Bind:      producers.Bind(NewSource),
}
