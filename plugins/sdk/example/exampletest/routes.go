package exampletest

import (
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
)

func exampleRoutes() []sdk.Route { return example.Info().Routes }
