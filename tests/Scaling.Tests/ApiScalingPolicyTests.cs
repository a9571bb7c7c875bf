namespace Reference.Scaling.Tests;

/// <summary>The API policy on recorded gateway readings (one a second): load arrives, stays, and goes.</summary>
public sealed class ApiScalingPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 18, 0, 0, TimeSpan.Zero);
    private static readonly ApiScalingLimits Limits = new(TimeSpan.FromMilliseconds(250), InFlightPerReplicaTarget: 8, StableWindow: TimeSpan.FromSeconds(5));

    [Fact]
    public void Slow_answers_add_one_replica_at_once_and_many_in_flight_as_many_as_they_need()
    {
        var policy = new ApiScalingPolicy("inventoryapi", replicas: 4, Limits);

        var slow = policy.Decide(Load(inFlight: 5, p95Ms: 480), running: 1, Start);
        Assert.Equal((1, 2), (slow.From, slow.To));
        Assert.Equal("p95 480 ms > 250 ms, 5 in flight", slow.Reason);

        var crowded = policy.Decide(Load(inFlight: 37, p95Ms: 120), running: 2, Start.AddSeconds(1));
        Assert.Equal((2, 4), (crowded.From, crowded.To));
        Assert.Equal("37 in flight > 8 per replica, p95 120 ms, at the cap of 4", crowded.Reason);

        var capped = policy.Decide(Load(inFlight: 90, p95Ms: 900), running: 4, Start.AddSeconds(2));
        Assert.False(capped.IsChange);
    }

    [Fact]
    public void A_recorded_burst_goes_up_then_down_one_replica_per_stable_window_and_never_to_zero()
    {
        var policy = new ApiScalingPolicy("uploadapi", replicas: 3, Limits);
        // (second, in flight, p95 ms or -1 for no requests): quiet, a burst, a tail, then nothing at all. Calm from second 7
        // (3 in flight, 60 ms: two replicas would do), so 3 → 2 at 12 and 2 → 1 a window later.
        (int Second, int InFlight, int P95)[] recorded =
        [
            (0, 0, -1), (1, 1, 12), (2, 14, 95), (3, 26, 310), (4, 30, 420), (5, 22, 380), (6, 9, 200), (7, 3, 60),
            (8, 2, 40), (9, 1, 30), (10, 0, 25), (11, 0, 20), (12, 0, 20), (13, 0, 18), (14, 0, -1), (15, 0, -1),
            (16, 0, -1), (17, 0, -1), (18, 0, -1), (19, 0, -1), (20, 0, -1), (21, 0, -1), (22, 0, -1), (23, 0, -1),
        ];
        var running = 1;
        var counts = new List<int>();
        var changes = new List<string>();
        foreach (var (second, inFlight, p95) in recorded)
        {
            var decision = policy.Decide(Load(inFlight, p95), running, Start.AddSeconds(second));
            if (decision.IsChange)
            {
                changes.Add($"{second}: {decision}");
            }

            running = decision.To;
            counts.Add(running);
        }

        Assert.Equal([1, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1], counts);
        Assert.Equal(
        [
            "2: uploadapi 1 → 2: 14 in flight > 8 per replica, p95 95 ms",
            "3: uploadapi 2 → 3: p95 310 ms > 250 ms, 26 in flight, at the cap of 3",
            "12: uploadapi 3 → 2: p95 20 ms, 0 in flight; calm for 5 s, one fewer",
            "17: uploadapi 2 → 1: p95 none (no requests), 0 in flight; calm for 5 s, one fewer",
        ], changes);
    }

    [Fact]
    public void An_unreadable_gateway_holds_and_a_lost_last_replica_is_replaced()
    {
        var policy = new ApiScalingPolicy("inventoryapi", replicas: 2, Limits);
        var held = policy.Decide(null, running: 2, Start);
        Assert.Equal((2, 2, "gateway unreadable; holding 2"), (held.From, held.To, held.Reason));

        var none = policy.Decide(Load(0, -1), running: 0, Start);
        Assert.Equal((0, 1), (none.From, none.To));
        Assert.EndsWith("never fewer than 1", none.Reason);
    }

    [Fact]
    public void Bad_api_settings_are_named_in_one_message()
    {
        var result = new ApiScalingOptionsValidator().Validate(null, new ApiScalingOptions
        {
            LatencyTarget = TimeSpan.Zero, InFlightPerReplicaTarget = -1, StableWindow = TimeSpan.FromSeconds(-1),
        });

        var message = Assert.Single(result.Failures!);
        Assert.Contains("Scaling:Apis:LatencyTarget is 00:00:00; it must be above zero", message);
        Assert.Contains("Scaling:Apis:InFlightPerReplicaTarget is -1; it must be above 0", message);
        Assert.Contains("Scaling:Apis:StableWindow is -00:00:01; it must not be negative", message);
        Assert.True(new ApiScalingOptionsValidator().Validate(null, new ApiScalingOptions()).Succeeded);
    }

    private static ApiLoad Load(int inFlight, int p95Ms) =>
        new(inFlight, p95Ms < 0 ? null : TimeSpan.FromMilliseconds(p95Ms), p95Ms < 0 ? 0 : 100);
}
