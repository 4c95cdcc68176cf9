package transforms

//go:generate go run ../internal/docgen -dir ../docs
