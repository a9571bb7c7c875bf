using System.Text;
using Reference.Bench.EndToEnd;

namespace Reference.Bench.Report;

public static partial class MarkdownReport
{
    /// <summary>The order parts are shown in: the front end first, then the servers, any launchers and the driver.</summary>
    private static readonly string[] PartOrder =
        ["gateway", "uploadapi", "inventoryapi", "imageworker", "mariadb", "redis", "rabbitmq", "dcp", "launchers", "bench", "other"];

    /// <summary>
    /// Where each upload's CPU goes, cold and warm, and what the idle system holds: one column per part
    /// (<see cref="SystemProcesses"/>), one row per e2e run.
    /// </summary>
    private static string ProcessTables(IReadOnlyList<(string Name, EndToEndBench.Result Run)> runs)
    {
        var sb = new StringBuilder();
        var cpuRows = runs.SelectMany(r => new[]
            {
                (Label: $"{r.Name}, first uploads after start", Load: r.Run.Cold), (Label: $"{r.Name}, warm", Load: r.Run.Load),
                (Label: $"{r.Name}, first uploads after restarting the workers", Load: r.Run.ColdWorkers),
                (Label: $"{r.Name}, first uploads after restarting the gateway and the APIs", Load: r.Run.ColdFront),
            })
            .Where(r => r.Load?.CpuMsPerUpload is not null).ToList();
        if (cpuRows.Count > 0)
        {
            var parts = Ordered(cpuRows.SelectMany(r => r.Load!.CpuMsPerUpload!.Where(kv => kv.Value >= 0.5).Select(kv => kv.Key)));
            sb.AppendLine();
            sb.AppendLine("CPU ms per Ready upload, per process (`/proc/<pid>/stat` over the run; replicas summed; `launchers` are the `dotnet run` parents of services that run under one (under an IDE, or not built; the AppHost starts the rest from their dll); `bench` is the load driver with the AppHost host):");
            sb.AppendLine();
            sb.AppendLine("| run | jobs/s | " + string.Join(" | ", parts) + " | total | front end share |");
            sb.AppendLine("| --- | ---: |" + string.Concat(Enumerable.Repeat(" ---: |", parts.Count + 2)));
            foreach (var (label, load) in cpuRows)
            {
                var cpu = load!.CpuMsPerUpload!;
                var total = cpu.Values.Sum();
                var worker = cpu.GetValueOrDefault("imageworker");
                sb.AppendLine($"| {label} | {F(load.JobsPerSecond, "0.00")} | " + string.Join(" | ", parts.Select(p => F(cpu.GetValueOrDefault(p), "0"))) +
                    $" | {F(total, "0")} | {F(100 * (total - worker) / total, "0")}% |");
            }
        }

        var idle = runs.Where(r => r.Run.IdleMb is not null).ToList();
        if (idle.Count > 0)
        {
            var parts = Ordered(idle.SelectMany(r => r.Run.IdleMb!.Keys));
            sb.AppendLine();
            sb.AppendLine("Memory once every service is healthy, before the first upload: proportional resident MB (PSS, shared pages split among their processes, so parts add up; the total leaves out `bench`, which hosts the AppHost here):");
            sb.AppendLine();
            sb.AppendLine("| run | " + string.Join(" | ", parts) + " | total |");
            sb.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", parts.Count + 1)));
            foreach (var (name, run) in idle)
            {
                sb.AppendLine($"| {name} | " + string.Join(" | ", parts.Select(p => F(run.IdleMb!.GetValueOrDefault(p), "0"))) +
                    $" | {F(run.IdleMb!.Where(kv => kv.Key != "bench").Sum(kv => kv.Value), "0")} |");
            }
        }

        return sb.ToString();
    }

    private static List<string> Ordered(IEnumerable<string> parts) =>
        parts.Distinct().OrderBy(p => Array.IndexOf(PartOrder, p) is var i && i >= 0 ? i : PartOrder.Length).ThenBy(p => p).ToList();
}
