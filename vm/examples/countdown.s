; countdown.s - the CPU-bound loop of David Beazley's GIL talk: count a number down to zero.
; `conc vm run vm/examples/countdown.s` prints 0; with --threads 4 each thread counts down on its
; own, and under the GIL four threads take about four times as long as one.
func main 0
    push 5000000
    call countdown
    native print
    push 0
    ret
end

; countdown n: loop until n is 0, return what is left (0)
func countdown 1
loop:
    load 0
    jz done
    load 0
    push 1
    sub
    store 0
    jmp loop
done:
    load 0
    ret
end
