using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using LearningMechanics.Bench;

// Usage: dotnet run -c Release --project bench/LearningMechanics.Bench -- WHICH, WHICH one of
//   gemm|coretype|ensemble|ensemble-interleaved|chain|training|training-bdn|hessian|kernel|dmft|all
var which = args.Length > 0 ? args[0] : "all";
var quick = Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1);

if (which is "gemm" or "all")
    BenchmarkRunner.Run<GemmBenchmarks>(DefaultConfig.Instance.AddJob(quick));

if (which is "coretype" or "all")
{
    var config = DefaultConfig.Instance.AddJob(quick.WithId("auto").AsBaseline());
    foreach (var core in new[] { "Haswell", "Zen", "SkylakeX", "Sandybridge" })
        config = config.AddJob(quick.WithId(core).WithEnvironmentVariables(new EnvironmentVariable("OPENBLAS_CORETYPE", core)));
    BenchmarkRunner.Run<CoreTypeBenchmarks>(config);
}

if (which is "ensemble" or "all")
    BenchmarkRunner.Run<EnsembleBenchmarks>(DefaultConfig.Instance.AddJob(quick));

if (which is "ensemble-interleaved" or "all")
    EnsembleBenchmarks.RunInterleaved();

if (which is "chain" or "all")
    BenchmarkRunner.Run<ChainBenchmarks>(DefaultConfig.Instance.AddJob(quick));

if (which is "training-bdn" or "all")
    BenchmarkRunner.Run<TrainingStepBenchmarks>(DefaultConfig.Instance.AddJob(quick));

if (which is "training" or "all")
    TrainingStepBenchmarks.RunWithReference();

if (which is "hessian" or "all")
{
    BenchmarkRunner.Run<HessianBenchmarks>(DefaultConfig.Instance.AddJob(quick));
    HessianBenchmarks.LanczosMillion();
}

if (which is "kernel" or "all")
    KernelBenchmarks.RunWithReference();

if (which is "dmft" or "all")
    BenchmarkRunner.Run<DmftBenchmarks>(DefaultConfig.Instance.AddJob(quick));
