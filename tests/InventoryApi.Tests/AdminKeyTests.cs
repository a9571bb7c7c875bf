using System.Net;
using System.Text;
using Microsoft.Extensions.Options;

namespace Reference.InventoryApi.Tests;

/// <summary>The admin key is checked before anything reads the body, and it can be rotated.</summary>
[Collection(InventoryCollection.Name)]
public sealed class AdminKeyTests(InventoryFixture fixture)
{
    [Fact]
    public async Task An_anonymous_write_with_a_malformed_body_gets_401_not_a_400_that_describes_the_schema()
    {
        using var anonymous = fixture.ReplicaA.Anonymous();
        using var wrong = fixture.ReplicaA.Anonymous();
        wrong.DefaultRequestHeaders.Add("X-Api-Key", new string('x', 40));

        using var missing = await anonymous.PostAsync("/api/inventory/products", Malformed());
        using var forbidden = await wrong.PostAsync("/api/inventory/products", Malformed());
        using var forbiddenStock = await wrong.PostAsync($"/api/inventory/products/{Guid.NewGuid()}/stock", Malformed());

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("JSON", await missing.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbiddenStock.StatusCode);
    }

    [Fact]
    public async Task During_a_rotation_the_new_and_the_previous_key_are_both_valid_and_nothing_else()
    {
        var newKey = "rotated-admin-key-" + Guid.NewGuid().ToString("N");
        await using var replica = fixture.NewReplica(settings: new Dictionary<string, string?>
        {
            ["Auth:AdminKey"] = newKey,
            ["Auth:PreviousAdminKey"] = InventoryApp.AdminKey,
        });

        var withNew = await StockAdjustmentStatusAsync(replica, newKey);
        var withPrevious = await StockAdjustmentStatusAsync(replica, InventoryApp.AdminKey);
        var withNeither = await StockAdjustmentStatusAsync(replica, newKey + "x");

        // 404: the key was accepted and the (absent) product looked for.
        Assert.Equal(HttpStatusCode.NotFound, withNew);
        Assert.Equal(HttpStatusCode.NotFound, withPrevious);
        Assert.Equal(HttpStatusCode.Forbidden, withNeither);
    }

    [Theory]
    [InlineData("Auth:AdminKey", "short-admin-key")]
    [InlineData("Auth:PreviousAdminKey", "short-previous-key")]
    public async Task A_key_shorter_than_32_characters_refuses_start_up_with_one_clear_message(string setting, string value)
    {
        await using var replica = fixture.NewReplica(settings: new Dictionary<string, string?> { [setting] = value });

        var refused = Assert.Throws<OptionsValidationException>(replica.Start);

        Assert.Equal($"{setting} is shorter than 32 characters", refused.Message[..$"{setting} is shorter than 32 characters".Length]);
    }

    private static async Task<HttpStatusCode> StockAdjustmentStatusAsync(InventoryApp replica, string key)
    {
        using var client = replica.Anonymous();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var response = await client.PostAsync($"/api/inventory/products/{Guid.NewGuid()}/stock",
            new StringContent("""{"delta":1}""", Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    private static StringContent Malformed() => new("{\"sku\": ", Encoding.UTF8, "application/json");
}
