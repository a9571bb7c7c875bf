using System.Diagnostics;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests.Support;

/// <summary>Times the phases of a long test and prints them, so CI shows where its minutes go.</summary>
public sealed class Phases(ITestOutputHelper output)
{
    private readonly List<(string Name, TimeSpan Took, bool Completed)> phases = [];
    private readonly Stopwatch total = Stopwatch.StartNew();

    public async Task RunAsync(string name, Func<Task> phase) =>
        await RunAsync(name, async () =>
        {
            await phase();
            return true;
        });

    public async Task<T> RunAsync<T>(string name, Func<Task<T>> phase)
    {
        var clock = Stopwatch.StartNew();
        var completed = false;
        try
        {
            var result = await phase();
            completed = true;
            return result;
        }
        finally
        {
            phases.Add((name, clock.Elapsed, completed));
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss} phase '{name}' {(completed ? "done" : "FAILED")} in {clock.Elapsed.TotalSeconds:0.0} s");
        }
    }

    public void Report()
    {
        output.WriteLine("Phase timings:");
        foreach (var (name, took, completed) in phases)
        {
            output.WriteLine($"  {took.TotalSeconds,7:0.0} s  {name}{(completed ? "" : "  (failed)")}");
        }

        output.WriteLine($"  {total.Elapsed.TotalSeconds,7:0.0} s  total");
    }
}
