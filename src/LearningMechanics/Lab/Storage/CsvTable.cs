using System.Globalization;

namespace LearningMechanics.Lab.Storage;

/// <summary>
/// A CSV table with a header line of column names (comma, semicolon or tab separated; '#' comment lines and blank lines
/// skipped; quotes around names allowed). Only the requested columns must be numeric; a bad cell is reported with its row
/// and column. Files over 256 MiB and tables over 1 000 000 rows are refused, so a hostile file cannot exhaust memory.
/// </summary>
public static class CsvTable
{
    private const long MaxBytes = 256L << 20;
    private const int MaxRows = 1_000_000;
    private static readonly char[] Separators = [',', ';', '\t'];

    /// <summary>The named columns of <paramref name="path"/>, in the order asked, and the file line of every row.</summary>
    public static (double[][] Columns, int[] Lines) ReadColumns(string path, params string[] columns)
    {
        using var fs = Npy.OpenForRead(path);
        if (fs.Length > MaxBytes) throw new BadInputException($"{path}: {fs.Length} bytes is more than the 256 MiB a table may have.");
        using var reader = new StreamReader(fs);
        string[]? header = null;
        int[] index = [];
        var values = columns.Select(_ => new List<double>()).ToArray();
        var lines = new List<int>();
        int lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('#')) continue;
            var cells = t.Split(Separators).Select(c => c.Trim().Trim('"')).ToArray();
            if (header is null)
            {
                header = cells;
                index = [.. columns.Select(c => Array.FindIndex(header, h => string.Equals(h, c, StringComparison.OrdinalIgnoreCase)))];
                for (int k = 0; k < columns.Length; k++)
                    if (index[k] < 0)
                        throw new BadInputException($"{path}: no column '{columns[k]}'. Columns: {string.Join(", ", header)}.");
                continue;
            }
            if (values[0].Count >= MaxRows) throw new BadInputException($"{path}: more than {MaxRows} rows.");
            for (int k = 0; k < columns.Length; k++)
            {
                if (index[k] >= cells.Length)
                    throw new BadInputException($"{path}, line {lineNo}: {cells.Length} cells, no value for column '{columns[k]}'.");
                if (!double.TryParse(cells[index[k]], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new BadInputException(
                        $"{path}, line {lineNo}, column '{columns[k]}': '{Shorten(cells[index[k]])}' is not a number.");
                values[k].Add(v);
            }
            lines.Add(lineNo);
        }
        if (header is null) throw new BadInputException($"{path}: empty table (no header line).");
        return ([.. values.Select(v => v.ToArray())], [.. lines]);
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
