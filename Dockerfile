# One image, every role: docker run ferry producer|processor|sink|up|sandbox
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /ferry ./cmd/ferry

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /ferry /ferry
ENTRYPOINT ["/ferry"]
