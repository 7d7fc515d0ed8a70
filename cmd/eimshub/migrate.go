package main

import (
	"context"
	"log/slog"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/record"
)

// migrateWebClient runs the start-up migrations of the web client support
// (spec §12.17 D-12.1, §12.10, §12.11): records of forms without workflow
// become effective (flowStatus 0 → 3); stored forms get a designer layout
// and their app menu entry; workflow definitions get the §12.11 shape.
// Each is idempotent. A failure (e.g. another instance migrating the same
// documents at the same moment) is logged and does not stop the start: the
// next start finishes the work.
func migrateWebClient(ctx context.Context, log *slog.Logger, rec *record.Service, ents *entity.Service) {
	if _, err := rec.MigrateEffective(ctx); err != nil {
		log.WarnContext(ctx, "migration of flowStatus (D-12.1) incomplete; it resumes on the next start", "err", err)
	}
	if _, err := ents.MigrateWebClient(ctx); err != nil {
		log.WarnContext(ctx, "migration of forms and workflow definitions incomplete; it resumes on the next start", "err", err)
	}
}
