-- Per-column versions of timeline cells: an edit's time and a deletion's
-- time are each guarded by the version that wrote them (the content stays
-- guarded by updated_version), so a late edit keeps its time on a deleted
-- comment and a late delete its time on an edited one, as in version order.
ALTER TABLE timeline_cells ADD COLUMN edited_version BIGINT;
ALTER TABLE timeline_cells ADD COLUMN deleted_version BIGINT;
-- Best effort: the version of the last write of the row, which is the
-- edit's or the deletion's unless a later write of the row followed it.
UPDATE timeline_cells SET edited_version = updated_version WHERE edited_at IS NOT NULL;
UPDATE timeline_cells SET deleted_version = updated_version WHERE deleted_at IS NOT NULL;
