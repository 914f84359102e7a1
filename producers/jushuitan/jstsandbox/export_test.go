package jstsandbox

// The tests sign with the sandbox's own reading of the vendor's documents, never with the client's.
var Sign = jstSign

const (
	OrdersPath       = jstOrdersPath
	ShopsPath        = jstShopsPath
	InitTokenPath    = jstInitTokenPath
	RefreshTokenPath = jstRefreshTokenPath
)
