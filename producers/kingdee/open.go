package kingdee

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// The fields vendors.md §4.4 says the vendor returns encrypted (敏感数据解密)
// on a customer and on each of its contacts (bomentity[]).
var (
	sensitive        = []string{"addr", "bank_account", "invoice_phone"}
	sensitiveContact = []string{"mobile", "phone", "email", "qq", "wechat", "birthday", "contact_address"}
)

// openIV is the fixed IV of the vendor's field encryption.
const openIV = "5e8y6w45ju8w9jq8"

// Open decrypts a field the vendor returned encrypted: base64 of
// AES-CBC with PKCS#7 padding, the client secret as the key (32 bytes:
// AES-256) and a fixed IV. An empty value is empty.
//
// Uncertain: vendors.md confirms only that these fields come encrypted;
// the algorithm is how three independent public clients decrypt them (the
// official 隐私数据解密 page was not read). So a value that does not open
// is kept as the vendor sent it, and the client says so once.
func Open(clientSecret, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "", errors.New("not base64")
	}
	block, err := aes.NewCipher([]byte(clientSecret))
	if err != nil {
		return "", errors.New("the client secret is not an AES key")
	}
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return "", errors.New("not whole AES blocks")
	}
	cipher.NewCBCDecrypter(block, []byte(openIV)).CryptBlocks(b, b)
	pad := int(b[len(b)-1])
	if pad < 1 || pad > aes.BlockSize || pad > len(b) {
		return "", errors.New("bad padding")
	}
	for _, x := range b[len(b)-pad:] {
		if int(x) != pad {
			return "", errors.New("bad padding")
		}
	}
	return string(b[:len(b)-pad]), nil
}

// openFields decrypts the named string fields of a record in place; a
// field that does not open stays as sent.
func (c *Client) openFields(rec map[string]json.RawMessage, names []string) {
	for _, name := range names {
		var v string
		if json.Unmarshal(rec[name], &v) != nil || v == "" {
			continue
		}
		clear, err := Open(c.cfg.ClientSecret, v)
		if err != nil {
			c.opaque.Do(func() {
				c.api.Log.Warn("kingdee field does not decrypt; kept as the vendor sent it", "field", name, "err", err)
			})
			continue
		}
		rec[name], _ = json.Marshal(clear)
	}
}
