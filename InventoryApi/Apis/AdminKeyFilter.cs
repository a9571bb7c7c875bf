using System.Security.Cryptography;
using System.Text;

namespace Reference.InventoryApi.Apis;

/// <summary>
/// Write endpoints need the admin key in <c>X-Api-Key</c> (configured as <c>Auth:AdminKey</c>):
/// missing gives 401, wrong gives 403. With no key configured every request is refused.
/// </summary>
internal sealed class AdminKeyFilter(IConfiguration configuration) : IEndpointFilter
{
    public const string HeaderName = "X-Api-Key";
    public const string ConfigurationKey = "Auth:AdminKey";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (string.IsNullOrEmpty(presented))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{HeaderName}\"";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Admin key required",
                detail: $"Send the admin key in the {HeaderName} header.");
        }

        var expected = configuration[ConfigurationKey];
        if (string.IsNullOrEmpty(expected) || !KeysEqual(presented, expected))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Wrong admin key",
                detail: $"The {HeaderName} header does not hold the admin key.");
        }

        return await next(context);
    }

    // Hashing first makes both sides the same length, so the comparison time says nothing about the key.
    private static bool KeysEqual(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
