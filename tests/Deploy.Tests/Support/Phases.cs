using System.Diagnostics;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests.Support;

/// <summary>Times the phases of a long test and prints them, so CI shows where its minutes go.</summary>
public sealed class Phases(ITestOutputHelper output)
{
    private readonly List<(string Name, TimeSpan Took, string? Failure)> phases = [];
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
        try
        {
            var result = await phase();
            phases.Add((name, clock.Elapsed, null));
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss} phase '{name}' done in {clock.Elapsed.TotalSeconds:0.0} s");
            return result;
        }
        catch (Exception e)
        {
            // CI shows the end of the output: the report repeats why the phase failed.
            var failure = $"{e.GetType().Name}: {e.Message}";
            phases.Add((name, clock.Elapsed, failure));
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss} phase '{name}' FAILED in {clock.Elapsed.TotalSeconds:0.0} s: {failure}");
            throw;
        }
    }

    public void Report()
    {
        output.WriteLine("Phase timings:");
        foreach (var (name, took, failure) in phases)
        {
            output.WriteLine($"  {took.TotalSeconds,7:0.0} s  {name}{(failure is null ? "" : $"  (failed: {FirstLine(failure)})")}");
        }

        output.WriteLine($"  {total.Elapsed.TotalSeconds,7:0.0} s  total");
    }

    private static string FirstLine(string text) => text.Split('\n')[0] is var line && line.Length > 300 ? line[..300] + "…" : line;
}
