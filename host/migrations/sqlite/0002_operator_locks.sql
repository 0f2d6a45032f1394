-- R16 per terminal: three wrong passwords for an operator on one terminal lock that operator
-- on that terminal only, so one stolen terminal key cannot lock the supervisor merchant-wide.
-- Rows exist for any operator number tried, known or not, so the lockout tells nobody which
-- operators exist. `attempts` counts password checks since the last right password, taken
-- (one statement) before the check runs; the third sets `locked_until` at once, so no fourth
-- check starts however many arrive together. A right password clears the row.
CREATE TABLE operator_locks (
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    operator TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_ref, operator)
);

-- The merchant-wide count it replaces.
ALTER TABLE operators DROP COLUMN failed_count;
ALTER TABLE operators DROP COLUMN locked_until;
