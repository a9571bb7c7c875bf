using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reference.Bench.Report;

/// <summary>
/// One run's record, bench/results/{date}.json: a section per benchmark, saved after each one so a
/// run cut short keeps what it measured. Re-running one benchmark replaces only its section.
/// </summary>
public sealed class BenchResults
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>One line: what a child process prints for its parent.</summary>
    public static readonly JsonSerializerOptions Line = new(JsonSerializerDefaults.Web);

    private readonly JsonObject _root;

    private BenchResults(string path, JsonObject root)
    {
        Path = path;
        _root = root;
    }

    public string Path { get; }

    public JsonObject Root => _root;

    public static BenchResults Open(string path) =>
        new(path, File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : new JsonObject());

    public void Set<T>(string section, T value)
    {
        _root[section] = JsonSerializer.SerializeToNode(value, Json);
        _root["machine"] = JsonSerializer.SerializeToNode(Machine.Describe(), Json);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        File.WriteAllText(Path, _root.ToJsonString(Json));
    }

    public T? Get<T>(string section) => _root[section] is { } node ? node.Deserialize<T>(Json) : default;
}

/// <param name="Commit">The commit measured; <paramref name="Dirty"/> when the tree had uncommitted changes.</param>
public sealed record MachineInfo(string Date, int Cores, string Cpu, string Os, string Dotnet, string? Commit = null, bool? Dirty = null);

public static class Machine
{
    public static MachineInfo Describe() => new(
        DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture),
        Environment.ProcessorCount,
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown",
        System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        Environment.Version.ToString(),
        Git("rev-parse", "HEAD"),
        Git("status", "--porcelain", "--untracked-files=no") is { } changes ? changes.Length > 0 : null);

    /// <summary>One git command's output in the repository, or null where git cannot answer.</summary>
    private static string? Git(params string[] arguments)
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-C");
            start.ArgumentList.Add(Reference.Tests.Support.RepoPaths.Root);
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var git = System.Diagnostics.Process.Start(start)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The 1-minute load average: the machine is shared, so every figure is stored with it.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Peak and current resident memory of a process, in MB (VmHWM, VmRSS).</summary>
    public static (double PeakMb, double CurrentMb) Memory(int pid = 0)
    {
        var status = File.ReadAllLines(pid == 0 ? "/proc/self/status" : $"/proc/{pid}/status");
        double Read(string key) => double.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal))
            .Split(':', 2)[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return (Read("VmHWM"), Read("VmRSS"));
    }

    /// <summary>CPU seconds (user + system) a process has used so far; 0 when it is gone.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // After "pid (comm) ": state is field 3, utime 14 and stime 15, in clock ticks (100 a second).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                    + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The processes whose command name is <paramref name="comm"/>.</summary>
    public static IEnumerable<int> ProcessesNamed(string comm) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && TryRead($"/proc/{pid}/comm")?.Trim() == comm);

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Resets a process's (this one's by default) peak resident memory to its current value (Linux: clear_refs 5).</summary>
    public static void ResetPeakMemory(int pid = 0) => File.WriteAllText(pid == 0 ? "/proc/self/clear_refs" : $"/proc/{pid}/clear_refs", "5");
}

public static class Stats
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = p / 100.0 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static double Median(IReadOnlyList<double> values) => Percentile(values, 50);
}
