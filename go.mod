module github.com/ferry-data/ferry

go 1.26.8

require github.com/linkedin/goavro/v2 v2.15.0

require (
	github.com/golang/snappy v0.0.1 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
