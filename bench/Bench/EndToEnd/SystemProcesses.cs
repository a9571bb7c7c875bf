using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Reference.Bench.Report;
using Reference.Tests.Storefront;

namespace Reference.Bench.EndToEnd;

/// <summary>
/// Every process this benchmark's AppHost started, by part: each service (replicas summed), the
/// <c>dotnet run</c> launchers, the backing servers and DCP, found as descendants of this process and of the DCP
/// that watches it (other work on the machine may run its own MariaDB), and "bench", this process: the AppHost and the load driver.
/// </summary>
public static class SystemProcesses
{
    /// <summary>CPU seconds so far per part.</summary>
    public static Dictionary<string, double> CpuSeconds(DistributedApplication app) =>
        Sum(app, Machine.CpuSeconds);

    /// <summary>
    /// Proportional resident MB now per part (PSS: a page shared by n processes counts 1/n in each), so the parts add up
    /// to what the system holds: DCP's dozen processes share one Go binary, the launchers the SDK's assemblies.
    /// </summary>
    public static Dictionary<string, double> ProportionalMb(DistributedApplication app) =>
        Sum(app, pid => double.Parse(File.ReadLines($"/proc/{pid}/smaps_rollup").First(l => l.StartsWith("Pss:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0);

    /// <summary>The difference of two <see cref="CpuSeconds"/> readings in CPU ms per unit of work (an upload, a read).</summary>
    public static Dictionary<string, double> MsPer(Dictionary<string, double> before, Dictionary<string, double> after, double units) =>
        after.ToDictionary(kv => kv.Key, kv => Math.Round((kv.Value - before.GetValueOrDefault(kv.Key)) * 1000 / units, 2));

    private static Dictionary<string, double> Sum(DistributedApplication app, Func<int, double> measure)
    {
        var parts = new Dictionary<string, double>();
        foreach (var (pid, part) in Classify(app))
        {
            try
            {
                parts[part] = parts.GetValueOrDefault(part) + measure(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // it ended meanwhile
            }
        }

        return parts;
    }

    private static IEnumerable<(int Pid, string Part)> Classify(DistributedApplication app)
    {
        var services = new Dictionary<int, string>();
        var launchers = new HashSet<int>();
        foreach (var resource in app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            if (!app.ResourceNotifications.TryGetCurrentState(resource.Name, out var state)
                || state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is not { } value
                || !int.TryParse(value.ToString(), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // The service itself, whether started from its dll or under a `dotnet run` launcher (then the reported pid).
                var service = ServiceProcess.Find(app, resource.Name);
                services[service] = PartOf(resource.Name);
                if (service != pid)
                {
                    launchers.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // stopped meanwhile, or a launcher whose service has not started yet
            }
        }

        var self = Environment.ProcessId;
        yield return (self, "bench");
        // DCP detaches (its parent is init) and watches this process: its tree holds the services and servers.
        var dcp = Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Comm(pid) == "dcp" && CommandLine(pid) is { } line
                && line.Contains("start-apiserver", StringComparison.Ordinal) && line.Contains($"--monitor {self} ", StringComparison.Ordinal));
        foreach (var pid in Descendants(self).Concat(dcp.SelectMany(root => Descendants(root).Prepend(root))))
        {
            yield return (pid, services.TryGetValue(pid, out var service) ? service
                : launchers.Contains(pid) ? "launchers"
                : Comm(pid) switch
                {
                    "mariadbd" or "mysqld" => "mariadb",
                    "redis-server" => "redis",
                    "beam.smp" or "epmd" or "erl_child_setup" or "inet_gethost" => "rabbitmq",
                    { } comm when comm.StartsWith("dcp", StringComparison.Ordinal) => "dcp",
                    _ => "other",
                });
        }
    }

    /// <summary><c>inventoryapi-2</c> is part <c>inventoryapi</c>.</summary>
    private static string PartOf(string resource) =>
        resource.Contains('-') && char.IsDigit(resource[^1]) ? resource[..resource.LastIndexOf('-')] : resource;

    private static IEnumerable<int> Descendants(int root)
    {
        var parents = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                (parents.TryGetValue(parent, out var list) ? list : parents[parent] = []).Add(pid);
            }
            catch (IOException)
            {
            }
        }

        var stack = new Stack<int>([root]);
        while (stack.TryPop(out var pid))
        {
            foreach (var child in parents.GetValueOrDefault(pid) ?? [])
            {
                yield return child;
                stack.Push(child);
            }
        }
    }

    private static string? CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
