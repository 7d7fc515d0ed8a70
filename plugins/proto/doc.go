// Package pb holds the protobuf contract between the EIMS Hub and its
// connector plugins (common.proto, connector.proto, host.proto) and the code
// generated from it by generate.sh. Plugin authors never import it: the Go
// types live in plugins/sdk, which converts to and from these messages.
package pb
