using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Reference.Tests.Storefront;

/// <summary>Finds and kills the real process behind a resource, as a crash would.</summary>
public static class ServiceProcess
{
    /// <summary>
    /// The process that does the work: for a project that is the service itself, the child of
    /// the <c>dotnet run</c> whose pid the resource reports.
    /// </summary>
    public static int Find(DistributedApplication app, string resource)
    {
        if (!app.ResourceNotifications.TryGetCurrentState(resource, out var current))
        {
            throw new InvalidOperationException($"{resource} has no state yet.");
        }

        var pid = current.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value
            ?? throw new InvalidOperationException($"{resource} reports no pid.");
        var parent = Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture);
        return current.Resource is ProjectResource ? Children(parent).Single() : parent;
    }

    public static int KillHard(DistributedApplication app, string resource)
    {
        var pid = Find(app, resource);
        Process.GetProcessById(pid).Kill();
        return pid;
    }

    private static IEnumerable<int> Children(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children"))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse);
}
