package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/jackyun"
	"github.com/ferry-data/ferry/producers/jushuitan"
	"github.com/ferry-data/ferry/producers/kingdee"
	"github.com/ferry-data/ferry/producers/wdt"
	"github.com/ferry-data/ferry/sinks/banniu"
)

// clientSettings are what every vendor client shares.
type clientSettings struct {
	Limit   rate.Limit
	Timeout time.Duration
	Backoff backoff.Policy
	Now     func() time.Time
	Observe func(http.Header)
	Logger  *slog.Logger
}

// clients holds one client per vendor account, so that every flow of an
// account draws on one call budget.
type clients struct {
	clocks  map[string]*producers.VendorClock
	wdt     *wdt.Client
	jst     *jushuitan.Client
	jackyun *jackyun.Client
	kingdee *kingdee.Client
	banniu  *banniu.Client
}

// settings are the client settings of a vendor: the tightest budget of the
// process's flows on that vendor.
func (p *pipeline) settings(vendor string) clientSettings {
	var limit rate.Limit
	for _, f := range p.flows {
		r := f.Source.Rate.Limit
		if f.Source.Vendor != vendor {
			r = 0
		}
		if vendor == "banniu" && f.Target.Kind == "banniu" {
			r = f.Target.Rate.Limit
		}
		if r > 0 && (limit == 0 || r < limit) {
			limit = r
		}
	}
	c := p.vendorClock(vendor)
	s := clientSettings{Limit: limit, Now: c.Now, Observe: c.Observe, Logger: p.log}
	if p.tune != nil {
		p.tune(&s)
	}
	return s
}

// vendorClock is the vendor's clock, shared by its clients and producers.
func (p *pipeline) vendorClock(vendor string) *producers.VendorClock {
	if p.clients.clocks == nil {
		p.clients.clocks = map[string]*producers.VendorClock{}
	}
	c, ok := p.clients.clocks[vendor]
	if !ok {
		c = producers.NewVendorClock(p.now)
		p.clients.clocks[vendor] = c
	}
	return c
}

func missing(f *flows.Flow, vendor string, vars ...string) error {
	return fmt.Errorf("flow %s: no %s endpoint (set %s)", f.Name, vendor, strings.Join(vars, ", "))
}

// source returns the connector that polls a flow's source, through the
// process's client of the flow's vendor account.
func (p *pipeline) source(f *flows.Flow) (producers.Source, error) {
	if err := p.connect(f); err != nil {
		return nil, err
	}
	src, err := bindSource(f, &p.clients, p.log)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return src, nil
}

// connect makes the client of the flow's vendor account, once a process.
func (p *pipeline) connect(f *flows.Flow) error {
	s := p.settings(f.Source.Vendor)
	var err error
	switch f.Source.Vendor {
	case "wdt":
		a := p.cfg.WDT
		if a.URL == "" {
			return missing(f, "WDT", "FERRY_WDT_URL", "FERRY_WDT_SID", "FERRY_WDT_APP_KEY", "FERRY_WDT_APP_SECRET")
		}
		if p.clients.wdt == nil {
			p.clients.wdt, err = wdt.New(wdt.Config{URL: a.URL, SID: a.SID, AppKey: a.AppKey, AppSecret: a.AppSecret,
				Limit: s.Limit, Timeout: s.Timeout, Backoff: s.Backoff, Now: s.Now, Observe: s.Observe, Logger: s.Logger})
		}
	case "jushuitan":
		a := p.cfg.JST
		if a.URL == "" {
			return missing(f, "Jushuitan", "FERRY_JST_URL", "FERRY_JST_APP_KEY", "FERRY_JST_APP_SECRET")
		}
		if p.clients.jst == nil {
			p.clients.jst, err = jushuitan.New(jushuitan.Config{URL: a.URL, AppKey: a.AppKey, AppSecret: a.AppSecret,
				AccessToken: a.AccessToken, RefreshToken: a.RefreshToken,
				Limit: s.Limit, Timeout: s.Timeout, Backoff: s.Backoff, Now: s.Now, Observe: s.Observe, Logger: s.Logger})
		}
	case "jackyun":
		a := p.cfg.Jackyun
		if a.URL == "" {
			return missing(f, "Jackyun", "FERRY_JACKYUN_URL", "FERRY_JACKYUN_APP_KEY", "FERRY_JACKYUN_SECRET")
		}
		if p.clients.jackyun == nil {
			p.clients.jackyun, err = jackyun.New(jackyun.Config{URL: a.URL, AppKey: a.AppKey, Secret: a.Secret,
				Limit: s.Limit, Timeout: s.Timeout, Backoff: s.Backoff, Now: s.Now, Observe: s.Observe, Logger: s.Logger})
		}
	case "kingdee":
		a := p.cfg.Kingdee
		if a.URL == "" {
			return missing(f, "Kingdee", "FERRY_KINGDEE_URL", "FERRY_KINGDEE_CLIENT_ID", "FERRY_KINGDEE_CLIENT_SECRET", "FERRY_KINGDEE_OUTER_INSTANCE_ID")
		}
		if p.clients.kingdee == nil {
			p.clients.kingdee, err = kingdee.New(kingdee.Config{URL: a.URL, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
				OuterInstanceID: a.OuterInstanceID, Limit: s.Limit, Timeout: s.Timeout, Backoff: s.Backoff, Now: s.Now, Observe: s.Observe, Logger: s.Logger})
		}
	default:
		return fmt.Errorf("flow %s: no connector for vendor %q", f.Name, f.Source.Vendor)
	}
	if err != nil {
		return fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return nil
}

// bindSource binds a flow to its vendor's connector. The connector logs
// where the vendor's rules win over the flow's metadata and refuses what
// the vendor cannot serve; with no client (ferry flow import) it only
// checks.
func bindSource(f *flows.Flow, c *clients, log *slog.Logger) (producers.Source, error) {
	switch f.Source.Vendor {
	case "wdt":
		return wdt.NewSource(c.wdt, f, log)
	case "jushuitan":
		return jushuitan.NewSource(c.jst, f, log)
	case "jackyun":
		return jackyun.NewSource(c.jackyun, f, log)
	case "kingdee":
		return kingdee.NewSource(c.kingdee, f, log)
	}
	return nil, fmt.Errorf("no connector for vendor %q", f.Source.Vendor)
}

// banniuWriter returns the writer of a flow whose target is Banniu.
func (p *pipeline) banniuWriter(f *flows.Flow) (*banniu.Writer, error) {
	a := p.cfg.Banniu
	if a.URL == "" {
		return nil, missing(f, "Banniu", "FERRY_BANNIU_URL", "FERRY_BANNIU_APP_KEY", "FERRY_BANNIU_APP_SECRET", "FERRY_BANNIU_ACCESS_TOKEN")
	}
	if p.clients.banniu == nil {
		s := p.settings("banniu")
		c, err := banniu.New(banniu.Config{URL: a.URL, AppKey: a.AppKey, AppSecret: a.AppSecret, AccessToken: a.AccessToken,
			Limit: s.Limit, Timeout: s.Timeout, Backoff: s.Backoff, Now: s.Now, Observe: s.Observe, Logger: s.Logger})
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", f.Name, err)
		}
		p.clients.banniu = c
	}
	w, err := banniu.NewWriter(p.clients.banniu, f)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return w, nil
}
