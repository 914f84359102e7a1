package banniusandbox

// The tests sign with the sandbox's own reading of the vendor's documents, never with the client's.
var Sign = banniuSign
