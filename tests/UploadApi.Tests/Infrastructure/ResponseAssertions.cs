using System.Net;

namespace Reference.UploadApi.Tests.Infrastructure;

public static class ResponseAssertions
{
    /// <summary>Like Assert.Equal on the status code, but a failure shows the body (the ProblemDetails' detail).</summary>
    public static async Task AssertStatusAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            Assert.Fail($"Expected {(int)expected} {expected}, got {(int)response.StatusCode} {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
