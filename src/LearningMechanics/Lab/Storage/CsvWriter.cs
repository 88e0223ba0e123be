using System.Globalization;
using System.Text;

namespace LearningMechanics.Lab.Storage;

/// <summary>Writes a <see cref="SeriesTable"/> as RFC 4180 CSV (invariant culture, round-trip numbers, empty cell for NaN).</summary>
public static class CsvWriter
{
    public static string ToCsv(SeriesTable table)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", table.Columns.Select(c => Quote(c.Name))));
        for (int r = 0; r < table.RowCount; r++)
        {
            sb.AppendLine(string.Join(",", table.Columns.Select(c => c.Values is double[] d
                ? (double.IsFinite(d[r]) ? d[r].ToString("R", CultureInfo.InvariantCulture) : "")
                : Quote(((string[])c.Values)[r]))));
        }
        return sb.ToString();
    }

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
