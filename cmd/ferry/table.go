package main

import (
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/jackyun"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/producers/jushuitan"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
	"github.com/ferry-data/ferry/producers/kingdee"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
	"github.com/ferry-data/ferry/producers/wdt"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/sinks/banniu"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// table is ferry's table of vendors: the sources it polls, the target APIs
// it writes to, and the sandbox that imitates each. Settings, clients,
// sandbox listeners, the compose and deploy environments and the README's
// settings table all derive from it. A new vendor is its own package (a
// client and its Connector), its sandbox package, its flow files and a
// line here.
var table = vendorTable{
	Sources: []producers.Connector{wdt.Connector, jushuitan.Connector, jackyun.Connector, kingdee.Connector},
	Targets: []sinks.Connector{banniu.Connector},
	Sandboxes: map[string]func(sandbox.Settings) sandbox.Served{
		"wdt":       wdtsandbox.Default,
		"jushuitan": jstsandbox.Default,
		"jackyun":   jackyunsandbox.Default,
		"kingdee":   kingdeesandbox.Default,
		"banniu":    banniusandbox.Default,
	},
	Link: linkSandboxes,
}

// linkSandboxes makes the sandboxes agree as one shop's systems would: most
// Jackyun trades already have their after-sales task in Banniu (column
// 77213 holds the online trade number), and the rest get one later, or
// never.
func linkSandboxes(s map[string]sandbox.Served) {
	jky, ok1 := s["jackyun"].Sandbox.(*jackyunsandbox.Sandbox)
	bn, ok2 := s["banniu"].Sandbox.(*banniusandbox.Sandbox)
	if !ok1 || !ok2 {
		return
	}
	for i, t := range jky.Truth() {
		if no, ok := t["onlineTradeNo"].(string); ok && i%10 != 0 {
			bn.AddTask(banniusandbox.DefaultProject, map[string]any{"77213": no})
		}
	}
}
