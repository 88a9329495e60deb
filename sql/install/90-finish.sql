------------------------------------------------------------------------------------------
-- Last steps of the install
------------------------------------------------------------------------------------------

-- setup_parameter_tables is for this script alone.
DROP PROCEDURE inami.setup_parameter_tables(text[]);
