using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Reference.Tests.Storefront;

/// <summary>Finds and kills the real process behind a resource, as a crash would.</summary>
public static class ServiceProcess
{
    /// <summary>
    /// The process that does the work: the one whose pid the resource reports, or for a project started by
    /// <c>dotnet run</c> (under an IDE, or not built) that launcher's child. The AppHost starts projects from
    /// their built dll (AppHost/Replicas.cs), so usually the pid is the service's own.
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
        return current.Resource is ProjectResource && IsDotnetRun(parent) ? Children(parent).Single() : parent;
    }

    public static int KillHard(DistributedApplication app, string resource)
    {
        var pid = Find(app, resource);
        Process.GetProcessById(pid).Kill();
        return pid;
    }

    /// <summary><c>dotnet run ...</c>: its second command-line argument is <c>run</c>.</summary>
    private static bool IsDotnetRun(int pid) =>
        File.ReadAllText($"/proc/{pid}/cmdline").Split('\0') is [_, "run", ..];

    private static IEnumerable<int> Children(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children"))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse);
}
