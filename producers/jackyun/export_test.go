package jackyun

// ReadPage is readPage, for the fuzz target.
var ReadPage = readPage
