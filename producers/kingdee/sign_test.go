package kingdee

import "testing"

// The official example of open.jdy.com's signing page, VERIFIED in
// vendors.md §4.2 (a public client asserts it in its self-test).
func TestSignVerifiedVector(t *testing.T) {
	sts := StringToSign("GET", "/jdyconnector/app_management/kingdee_auth_token", map[string]string{
		"app_key":       "bVZgAZOv1",
		"app_signature": "MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA==",
	}, "4427456950", "1670305063559")
	wantSTS := "GET\n%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token\n" +
		"app_key=bVZgAZOv1&app_signature=MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA%253D%253D\n" +
		"x-api-nonce:4427456950\nx-api-timestamp:1670305063559\n"
	if sts != wantSTS {
		t.Fatalf("StringToSign =\n%q\nwant\n%q", sts, wantSTS)
	}
	got := Sign("f2adcfef73369bfc4e1384677d38a0ff", sts)
	if want := "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ=="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// The customer-list vector "computed here" in vendors.md §4.2.
func TestSignComputedVector(t *testing.T) {
	sts := StringToSign("get", "/jdy/v2/bd/customer", map[string]string{
		"modify_start_time": "1704038400000",
		"modify_end_time":   "1704124800000",
		"page":              "1",
		"page_size":         "100",
	}, "123456789", "1704124800000")
	wantSTS := "GET\n%2Fjdy%2Fv2%2Fbd%2Fcustomer\n" +
		"modify_end_time=1704124800000&modify_start_time=1704038400000&page=1&page_size=100\n" +
		"x-api-nonce:123456789\nx-api-timestamp:1704124800000\n"
	if sts != wantSTS {
		t.Fatalf("StringToSign =\n%q\nwant\n%q", sts, wantSTS)
	}
	got := Sign("clientsecret", sts)
	if want := "NmNhYjhmNjJkM2Q1ZGQ4MjAzZjk2ZWRlZDljNGU2Yjg0MzYzNGZlOTI2ZTcyNGFhMWIwZDk4NTZlZDUyOGJjNg=="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestStringToSignWithoutQuery(t *testing.T) {
	got := StringToSign("POST", "/a", nil, "1", "2")
	if want := "POST\n%2Fa\n\nx-api-nonce:1\nx-api-timestamp:2\n"; got != want {
		t.Fatalf("StringToSign = %q, want %q", got, want)
	}
}

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{
		"MzZ==":        "MzZ%3D%3D",
		"a b+c/d":      "a%20b%2Bc%2Fd",
		"-_.~AZaz09":   "-_.~AZaz09",
		"客户":           "%E5%AE%A2%E6%88%B7",
		"!'()*":        "%21%27%28%29%2A",
		"x=1&y=2":      "x%3D1%26y%3D2",
		Encode("MzZ="): "MzZ%253D",
	} {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuery(t *testing.T) {
	got := Query(map[string]string{"b": "2 3", "a": "=", "c": ""})
	if want := "a=%3D&b=2%203&c="; got != want {
		t.Fatalf("Query = %q, want %q", got, want)
	}
	if Query(nil) != "" {
		t.Fatal("Query(nil) not empty")
	}
}

// The doc example's app_signature is base64 of a 64-character hex text.
func TestAppSignatureShape(t *testing.T) {
	got := AppSignature("secret", "bVZgAZOv1")
	if len(got) != 88 || got[86:] != "==" {
		t.Fatalf("AppSignature = %q: want base64 of 64 hex characters", got)
	}
	if got == AppSignature("other", "bVZgAZOv1") {
		t.Fatal("AppSignature ignores the secret")
	}
}
