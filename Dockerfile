# One image, every role: docker run ferry producer|processor|sink|up|sandbox.
# Built without the embedded database (-tags noembeddb), whose engine costs
# every process 250 ms and 20 MB at start: ferry up here needs
# FERRY_MYSQL_DSN.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -tags noembeddb -o /ferry ./cmd/ferry

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /ferry /ferry
ENTRYPOINT ["/ferry"]
