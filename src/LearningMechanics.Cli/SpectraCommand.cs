using System.CommandLine;
using System.Text.Json;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;
using Spectre.Console;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech spectra FILE.safetensors|FILE.npy</c>: for every 2-D tensor, the eigenvalues λ = s²/n of (1/n)WWᵀ, a
/// Marchenko–Pastur fit of the bulk, the outliers above its edge and the power-law tail exponent (README.md, "Command line").
/// Spectra are of the stored tensors as they are in the file (lmech's own files hold raw, pre-multiplier weights).
/// </summary>
internal static class SpectraCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("file") { Description = "weights (.safetensors) or one matrix (.npy/.csv)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var cmd = new Command("spectra", "Weight spectra: Marchenko–Pastur bulk, outliers, power-law tail.") { file, json };
        cmd.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            var matrices = new List<(string Name, Matrix M)>();
            if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var t in SafeTensors.Read(path).Tensors.Where(t => t.Shape.Length == 2 && t.Shape[0] >= 2 && t.Shape[1] >= 2))
                    matrices.Add((t.Name, new Matrix((int)t.Shape[0], (int)t.Shape[1], t.Data)));
                if (matrices.Count == 0) throw new BadInputException($"{path} holds no 2-D tensor with at least 2 rows and columns.");
            }
            else matrices.Add((Path.GetFileNameWithoutExtension(path), DataFiles.ReadMatrix(path)));
            var spectra = matrices.Select(m => WeightSpectrum.Analyse(m.Name, m.M)).ToList();
            if (p.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["file"] = Path.GetFullPath(path),
                    ["matrices"] = spectra.Select(s => new Dictionary<string, object?>
                    {
                        ["name"] = s.Name, ["shape"] = new[] { s.Rows, s.Cols }, ["mp_sigma2"] = Finite(s.Sigma2),
                        ["bulk_edge"] = Finite(s.BulkEdge),
                        ["outliers"] = s.Outliers.Select(i => s.Eigenvalues[i]).ToArray(), ["ks_distance"] = Finite(s.KsDistance),
                        ["tail_alpha"] = Finite(s.TailAlpha), ["tail_alpha_se"] = Finite(s.TailAlphaStdErr),
                        ["tail_xmin"] = Finite(s.TailXmin), ["tail_count"] = s.TailCount,
                        ["top_eigenvalues"] = s.Eigenvalues.Take(10).ToArray(),
                    }).ToList(),
                }, Lmech.Json));
                return Lmech.Ok;
            }
            var table = new Spectre.Console.Table()
                .AddColumns("tensor", "shape", "MP σ²", "bulk edge λ₊", "outliers", "λ_max", "KS to MP", "tail α ± SE");
            foreach (var s in spectra)
                table.AddRow(Markup.Escape(s.Name), $"{s.Rows}×{s.Cols}", F(s.Sigma2), F(s.BulkEdge), s.Outliers.Length.ToString(),
                    F(s.Eigenvalues[0]), F(s.KsDistance), $"{F(s.TailAlpha)} ± {F(s.TailAlphaStdErr)}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("λ = s²/n for the n-long side; outliers lie above λ₊ plus three Tracy–Widom widths.");
            return Lmech.Ok;
        });
        return cmd;
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
    private static string F(double v) => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
}
