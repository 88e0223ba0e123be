using System.Globalization;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Storage;

/// <summary>
/// Numeric matrices as CSV: one row per line, values separated by commas, semicolons, tabs or spaces; an optional
/// header line (any non-numeric first line) and '#' comment lines are skipped. Every row must have the same number of
/// finite values; errors name the line and column. A line that mixes ';' and ',' (decimal commas) and files over 4 GiB
/// are refused.
/// </summary>
public static class CsvMatrix
{
    private const long MaxBytes = 4L << 30;
    private static readonly char[] Separators = [',', ';', '\t', ' '];

    public static Matrix Read(string path)
    {
        using var fs = Npy.OpenForRead(path);
        if (fs.Length > MaxBytes)
            throw new BadInputException($"{path}: {fs.Length} bytes is more than the 4 GiB a CSV matrix may have; use .npy.");
        using var reader = new StreamReader(fs);
        var values = new List<double>();
        int cols = -1;
        int rows = 0;
        int lineNo = 0;
        bool first = true;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('#')) continue;
            // "1,5;2,5" is a decimal comma with semicolon separators, not four values: refused, not guessed.
            if (t.Contains(';') && t.Contains(','))
                throw new BadInputException($"{path}, line {lineNo}: '{Shorten(t)}' mixes ';' and ',' (a decimal comma?). Write " +
                    "numbers with a decimal point (1.5) and separate values with one of ',', ';', tab or space.");
            var parts = t.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
            var parsed = new double[parts.Length];
            bool numeric = true;
            for (int j = 0; j < parts.Length && numeric; j++)
                numeric = double.TryParse(parts[j], NumberStyles.Float, CultureInfo.InvariantCulture, out parsed[j]);
            if (!numeric)
            {
                if (first) { first = false; continue; }   // header
                throw new BadInputException($"{path}, line {lineNo}: '{Shorten(t)}' is not a row of numbers.");
            }
            first = false;
            if (cols < 0) cols = parts.Length;
            else if (parts.Length != cols)
                throw new BadInputException($"{path}, line {lineNo}: {parts.Length} values, but earlier rows have {cols}.");
            for (int j = 0; j < cols; j++)
                if (!double.IsFinite(parsed[j]))
                    throw new BadInputException($"{path}, line {lineNo}, column {j + 1}: value {parts[j]} is not finite.");
            values.AddRange(parsed);
            rows++;
        }
        if (rows == 0) throw new BadInputException($"{path}: no numeric rows.");
        return new Matrix(rows, cols, values.ToArray());
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
