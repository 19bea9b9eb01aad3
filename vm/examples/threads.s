; threads.s - the countdown split over 4 VM threads: spawn starts a function in a new conc thread,
; join waits for it and gives back what it returned. Under the GIL the four threads take turns
; (switching every 5 ms), so this takes about as long as counting it all in one thread.
func main 0 5               ; locals 0..3: thread handles, 4: sum of results
    push 1000000
    spawn countdown
    store 0
    push 1000000
    spawn countdown
    store 1
    push 1000000
    spawn countdown
    store 2
    push 1000000
    spawn countdown
    store 3
    load 0
    join
    load 1
    join
    add
    load 2
    join
    add
    load 3
    join
    add
    native print            ; 0: every thread counted to the end
    push 0
    ret
end

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
