//go:build noembeddb

package main

import (
	"context"
	"errors"
)

// startEmbeddedDB refuses: this ferry was built without the embedded
// database.
func startEmbeddedDB(context.Context) (string, func() error, error) {
	return "", nil, errors.New("this ferry was built without it (-tags noembeddb): set FERRY_MYSQL_DSN")
}
