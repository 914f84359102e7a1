package kingdeesandbox

// The tests sign with the sandbox's own reading of the vendor's documents, never with the client's.
var (
	StringToSign = kdStringToSign
	Sign         = kdHMAC
	AppSignature = kdHMAC
	Encode       = kdEncode
)

const (
	AuthorizePath     = kdAuthorizePath
	TokenPath         = kdTokenPath
	CustomerPath      = kdCustomerPath
	HeaderClientID    = kdHdrClientID
	HeaderAuthVersion = kdHdrAuthVersion
	HeaderTimestamp   = kdHdrTimestamp
	HeaderNonce       = kdHdrNonce
	HeaderSignHeaders = kdHdrSignHeaders
	HeaderSignature   = kdHdrSignature
	HeaderAppToken    = kdHdrAppToken
	HeaderRouter      = kdHdrRouter
	AuthVersion       = kdAuthVersion
	SignHeaders       = kdSignHeaders
)
